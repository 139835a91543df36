"""Validating submitted task data: against the task's JSON Schema form, then its form rules
(engine.form_rules, evaluated in the sandbox); times written the one way diagrams read them."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from jsonschema import Draft202012Validator, FormatChecker
from SpiffWorkflow.bpmn import BpmnWorkflow

from ...engine import runner
from ...engine.form_rules import RULES_PROPERTY, broken_rules, rule_context, rule_problems, rules_of
from ...engine.functions import diagram_functions
from ...engine.scripting import SandboxEnvironment
from ...errors import InvalidInput
from ..context import ServiceContext
from ..modelling.deployments import form_of
from ..people.users import group_members
from ..uow import UnitOfWork

# jsonschema checks a format only when the library for it is installed, and passes any value
# otherwise: a mistyped date-time would then reach the diagram. These are runtime dependencies.
FORMAT_CHECKER = FormatChecker()
_REQUIRED_FORMATS = ("date-time", "date", "email")
_missing = [name for name in _REQUIRED_FORMATS if name not in FORMAT_CHECKER.checkers]
if _missing:  # pragma: no cover - an installation without the project's dependencies
    raise ImportError(f"jsonschema cannot check the formats {_missing}: install rfc3339-validator")


def _path(error: Any) -> str:
    path = "$"
    for part in error.absolute_path:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path


def _field_path(error: Any) -> str:
    # A missing required property belongs to that property, not to its parent object.
    if error.validator == "required" and error.validator_value:
        missing = [p for p in error.validator_value if p not in (error.instance or {})]
        if missing:
            return f"{_path(error)}.{missing[0]}" if _path(error) != "$" else f"$.{missing[0]}"
    return _path(error)


def with_defaults(schema: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
    """The data with each missing top-level property given the schema's `default`."""
    defaults = {
        name: prop["default"]
        for name, prop in (schema.get("properties") or {}).items()
        if isinstance(prop, dict) and "default" in prop
    }
    return {**defaults, **data}


def validation_errors(schema: dict[str, Any], data: Any) -> list[dict[str, str]]:
    """One error per field, by JSON path; empty when the data is valid."""
    validator = Draft202012Validator(schema, format_checker=FORMAT_CHECKER)
    errors: dict[str, str] = {}
    for error in sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path)):
        if error.validator == "required":
            for missing in error.validator_value:
                if isinstance(error.instance, dict) and missing not in error.instance:
                    base = _path(error)
                    errors.setdefault(f"{base}.{missing}", f"'{missing}' is required")
            continue
        message = error.message
        if error.validator == "maxLength":
            message = f"is too long: at most {error.validator_value} characters"
        errors.setdefault(_field_path(error), message)
    return [{"field": path, "message": message} for path, message in errors.items()]


def normalised_times(schema: dict[str, Any], data: Any, timezone: str) -> Any:
    """The data with every `date-time` value of the form (at any depth) written the one way
    diagrams read it: in the application's time zone, to the second, with its offset. Valid
    data only (the format was checked), so every such value parses."""
    if not isinstance(schema, dict):
        return data
    if schema.get("format") == "date-time" and isinstance(data, str):
        moment = datetime.fromisoformat(data.replace("z", "Z"))
        return moment.astimezone(ZoneInfo(timezone)).isoformat(timespec="seconds")
    if isinstance(data, dict):
        properties = schema.get("properties") or {}
        return {
            key: normalised_times(properties[key], value, timezone) if key in properties else value
            for key, value in data.items()
        }
    if isinstance(data, list) and isinstance(schema.get("items"), dict):
        return [normalised_times(schema["items"], item, timezone) for item in data]
    return data


def check_form_rules(
    ctx: ServiceContext,
    uow: UnitOfWork,
    version_id: int,
    workflow: BpmnWorkflow,
    task_id: str,
    schema: Mapping[str, Any] | None,
    data: Mapping[str, Any],
) -> None:
    """422 when the data breaks a rule of the form or of the task (see engine.form_rules)."""
    rules = rules_of(schema)
    rules_file = runner.task_properties(workflow, task_id).get(RULES_PROPERTY)
    if rules_file:
        rules += rules_of(form_of(ctx, uow, version_id, rules_file))
    if rules:
        errors = runner.broken_form_rules(workflow, task_id, rules, schema, data)
        if errors:
            raise InvalidInput("the form has errors", errors)


def preview_errors(
    ctx: ServiceContext, schema: Mapping[str, Any], data: Mapping[str, Any]
) -> list[dict[str, Any]]:
    """What a completion would say of `data` typed into a form being edited: its schema errors,
    then its own rules (`x-rules`, run in the sandbox as on completion, with no task data beside
    the form). Rules that are not well formed are reported as such instead of run."""
    errors = validation_errors(schema, data)
    malformed = list(rule_problems(schema, schema))
    if malformed:
        return errors + [{"field": "$", "message": f"x-rules: {problem}"} for problem in malformed]
    rules = rules_of(schema)
    if not rules:
        return errors
    with ctx.uow() as uow:
        environment = SandboxEnvironment(
            ctx.sandbox,
            diagram_functions(
                ctx.clock, ctx.calendar, lambda name: group_members(uow, name), tz=ctx.settings.timezone
            ),
        )
        broken = broken_rules(environment, rules, rule_context(schema, {}, data))
    in_error = {error["field"] for error in errors}
    return errors + [error for error in broken if error["field"] not in in_error]
