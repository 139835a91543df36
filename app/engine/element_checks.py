"""The deploy checks of one form file or one element: what a bundle is refused for, element by
element (the parser gathers them with their files and lines)."""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition

from . import jsontext, translations
from .errors import Problem
from .form_rules import RULES_PROPERTY, rule_problems
from .scripting import check_expression, check_script
from .spec_properties import other_groups
from .timer_checks import TimerEvaluator, check_timer_value

FORM_PROPERTIES = ("formJsonSchemaFilename", "formUiSchemaFilename", RULES_PROPERTY)
RULES_SUFFIX = ".rules.json"
MAX_GROUP_NAME = 64  # the groups table's name column


def load_forms(files: Mapping[str, bytes], problems: list[Problem]) -> dict[str, Any]:
    forms: dict[str, Any] = {}
    for name, content in files.items():
        if not name.endswith(".json"):
            continue
        try:
            document = jsontext.loads(content)
        except (ValueError, UnicodeDecodeError) as exc:
            line = getattr(exc, "lineno", None)
            problems.append(Problem(name, line, None, f"invalid JSON: {exc}"))
            continue
        if not isinstance(document, dict):
            problems.append(Problem(name, 1, None, "a form file must hold a JSON object"))
            continue
        if name.endswith(translations.SUFFIX):
            continue  # a catalogue: checked against the diagram's ids in _catalogues
        if not name.endswith((".uischema.json", RULES_SUFFIX)):
            try:
                Draft202012Validator.check_schema(document)
            except SchemaError as exc:
                path = "/".join(str(p) for p in exc.path)
                problems.append(Problem(name, None, None, f"invalid JSON Schema at '{path}': {exc.message}"))
                continue
        schema = None if name.endswith(RULES_SUFFIX) else document
        rule_errors = list(rule_problems(document, schema))
        if rule_errors:
            problems.extend(Problem(name, None, None, message) for message in rule_errors)
            continue
        forms[name] = document
    return forms


def _expressions(task_spec: Any) -> Iterator[tuple[str, str, str]]:
    """Yield (kind, what, source) for every piece of code a task spec will run."""
    script = getattr(task_spec, "script", None)
    if isinstance(script, str):
        yield "script", "script", script
    for attr in ("prescript", "postscript"):
        source = getattr(task_spec, attr, None)
        if source:
            yield "script", attr, source
    for condition, _target in getattr(task_spec, "cond_task_specs", []) or []:
        # Gateway conditions come wrapped in an operator object holding the expression text.
        source = condition if isinstance(condition, str) else (getattr(condition, "args", None) or [None])[0]
        if isinstance(source, str) and source:
            yield "expression", "condition", source
    for attr in ("cardinality", "condition"):
        source = getattr(task_spec, attr, None)
        if isinstance(source, str) and source:
            yield "expression", attr, source
    event_definition = getattr(task_spec, "event_definition", None)
    source = getattr(event_definition, "expression", None)
    if isinstance(source, str) and source:
        yield (
            "expression",
            "timer" if isinstance(event_definition, TimerEventDefinition) else "payload",
            source,
        )
    properties = (getattr(task_spec, "extensions", None) or {}).get("properties", {})
    for name in ("due_at", "assignee"):
        if properties.get(name):
            yield "expression", name, properties[name]


def check_task_spec(
    task_spec: Any,
    file: str | None,
    forms: Mapping[str, Any],
    known_groups: Collection[str] | None,
    evaluate: TimerEvaluator | None = None,
) -> Iterator[tuple[str | None, str, str]]:
    """Yield (file, element_id, message) for everything wrong with one task spec."""
    element_id = getattr(task_spec, "bpmn_id", None)
    if element_id is None:
        return
    for kind, what, source in _expressions(task_spec):
        error = check_script(source) if kind == "script" else check_expression(source)
        if error:
            yield file, element_id, f"{what}: {error}"
        elif what == "timer":
            error = check_timer_value(task_spec.event_definition, source, evaluate)
            if error:
                yield file, element_id, error
    properties = (getattr(task_spec, "extensions", None) or {}).get("properties", {})
    for prop in FORM_PROPERTIES:
        form_name = properties.get(prop)
        if form_name and form_name not in forms:
            yield file, element_id, f"{prop} '{form_name}' is not among the deployed (valid) form files"
    rules_file, schema_file = properties.get(RULES_PROPERTY), properties.get("formJsonSchemaFilename")
    if rules_file in forms and schema_file in forms:
        for message in rule_problems(forms[rules_file], forms[schema_file]):
            yield file, element_id, f"{rules_file}: {message}"
    elif rules_file and not schema_file:
        yield file, element_id, f"{RULES_PROPERTY} needs the form (formJsonSchemaFilename) it checks"
    if getattr(task_spec, "manual", False) and known_groups is not None:
        for group in other_groups(properties):
            if group not in known_groups:
                yield file, element_id, f"other_groups: '{group}' does not name an existing group"
        if task_spec.lane and len(task_spec.lane) > MAX_GROUP_NAME:
            yield (
                file,
                element_id,
                f"lane '{task_spec.lane[:40]}…' is longer than {MAX_GROUP_NAME} characters",
            )


def lane_warning(task_spec: Any, known_groups: Collection[str] | None) -> str | None:
    """What a person deploying should know of a user task's lane, which does not stop the
    deployment: a task outside any lane belongs to whoever started the instance (as in
    spiff-arena), and a lane naming no group makes that group, empty."""
    if not getattr(task_spec, "manual", False) or known_groups is None:
        return None
    if not task_spec.lane:
        return "this user task is in no lane: it will belong to the user who started the instance"
    if task_spec.lane not in known_groups and len(task_spec.lane) <= MAX_GROUP_NAME:
        return (
            f"lane '{task_spec.lane}' names no group: the group will be created, empty, "
            "and an administrator must add its members"
        )
    return None
