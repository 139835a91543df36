"""Form rules: checks of submitted task data that JSON Schema cannot express.

A rule compares a field with the clock, with other fields or with the instance's data. It is an
expression of diagram code, evaluated by the sandbox like every other; a rule holds when the
expression is true. Rules live in a JSON object under the key `x-rules`: in a form's JSON Schema
(rules of every task using the form) or in a rules file a task names with `formRulesFilename`
(rules of that task only):

    {"field": "poll_deadline",
     "check": "is_after(poll_deadline, now())",
     "message": {"kk": "...", "ru": "...", "en": "The deadline must be in the future."}}

`field` is the form field the error is shown at (a property name, or a dotted path into nested
objects). The check sees the task's data with the submitted values over it; every property of
the form that is absent from both is None, so an optional field can be tested. A message may
name plain variables as `{{ name }}` (the limit the value broke, say), filled from the same data.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from .script_errors import SandboxUnavailable
from .scripting import SandboxEnvironment, check_expression, sandbox_unavailable_in

RULES_KEY = "x-rules"
RULES_PROPERTY = "formRulesFilename"
LANGUAGES = ("kk", "ru", "en")
MAX_RULES = 50
_FIELD = re.compile(r"[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z][A-Za-z0-9_]*)*")
_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z][A-Za-z0-9_]*)\s*\}\}")


@dataclass(frozen=True)
class FormRule:
    field: str
    check: str
    messages: Mapping[str, str]

    @property
    def path(self) -> str:
        """The field as a JSON path, the way schema errors name fields."""
        return "$." + self.field


def rule_problems(document: Mapping[str, Any], schema: Mapping[str, Any] | None = None) -> Iterator[str]:
    """Everything wrong with the rules of one form or rules file, each naming the rule by its
    index; `schema` is the form whose fields the rules refer to."""
    rules = document.get(RULES_KEY)
    if rules is None:
        return
    if not isinstance(rules, list):
        yield f"'{RULES_KEY}' must be a list of rules"
        return
    if len(rules) > MAX_RULES:
        yield f"'{RULES_KEY}' holds {len(rules)} rules; at most {MAX_RULES}"
    properties = (schema or {}).get("properties")
    for index, rule in enumerate(rules):
        where = f"{RULES_KEY}[{index}]"
        if not isinstance(rule, dict):
            yield f"{where}: a rule must be an object with field, check and message"
            continue
        unknown = set(rule) - {"field", "check", "message"}
        if unknown:
            yield f"{where}: unknown key(s) {', '.join(sorted(unknown))}"
        field = rule.get("field")
        if not isinstance(field, str) or not _FIELD.fullmatch(field):
            yield f"{where}: 'field' must name a form field (letters, digits, '_', dotted for nested)"
        elif isinstance(properties, dict) and field.split(".")[0] not in properties:
            yield f"{where}: field '{field}' is not a property of the form"
        check = rule.get("check")
        if not isinstance(check, str) or not check.strip():
            yield f"{where}: 'check' must be an expression"
        else:
            error = check_expression(check)
            if error:
                yield f"{where}: check: {error}"
        message = rule.get("message")
        if not isinstance(message, dict) or any(
            not isinstance(message.get(lang), str) or not message[lang].strip() for lang in LANGUAGES
        ):
            yield f"{where}: 'message' must give a text in each of {', '.join(LANGUAGES)}"


def rules_of(document: Mapping[str, Any] | None) -> list[FormRule]:
    """The rules of a form or rules file that passed `rule_problems`."""
    return [
        FormRule(rule["field"], rule["check"], dict(rule["message"]))
        for rule in (document or {}).get(RULES_KEY) or []
    ]


def rule_context(
    schema: Mapping[str, Any] | None, task_data: Mapping[str, Any], submitted: Mapping[str, Any]
) -> dict[str, Any]:
    """What a rule sees: the task data, the submitted values over it, and None for every form
    property given by neither."""
    absent = {name: None for name in (schema or {}).get("properties") or {}}
    return {**absent, **task_data, **submitted}


def broken_rules(
    environment: SandboxEnvironment, rules: list[FormRule], context: dict[str, Any]
) -> list[dict[str, Any]]:
    """One error per field whose rule does not hold, shaped like a schema error. A rule whose
    check fails to run (a value it cannot read) does not hold either: its error says why."""
    errors: dict[str, dict[str, Any]] = {}
    for rule in rules:
        if rule.path in errors:
            continue
        reason = None
        try:
            holds = bool(environment.evaluate(rule.check, dict(context)))
        except SandboxUnavailable:
            raise
        except Exception as exc:
            if sandbox_unavailable_in(exc) is not None:
                raise
            holds, reason = False, str(exc) or type(exc).__name__
        if not holds:
            messages = {lang: _filled(text, context) for lang, text in rule.messages.items()}
            error = {"field": rule.path, "message": messages["en"], "messages": messages}
            if reason:
                error["reason"] = f"the rule could not be checked: {reason}"
            errors[rule.path] = error
    return list(errors.values())


def _filled(text: str, context: Mapping[str, Any]) -> str:
    def value(match: re.Match[str]) -> str:
        found = context.get(match.group(1))
        return "" if found is None else str(found)

    return _PLACEHOLDER.sub(value, text)
