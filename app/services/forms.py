"""Validating submitted task data against the task's JSON Schema form."""

from __future__ import annotations

from typing import Any

from jsonschema import Draft202012Validator, FormatChecker


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
    validator = Draft202012Validator(schema, format_checker=FormatChecker())
    errors: dict[str, str] = {}
    for error in sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path)):
        if error.validator == "required":
            for missing in error.validator_value:
                if isinstance(error.instance, dict) and missing not in error.instance:
                    base = _path(error)
                    errors.setdefault(f"{base}.{missing}", f"'{missing}' is required")
            continue
        errors.setdefault(_field_path(error), error.message)
    return [{"field": path, "message": message} for path, message in errors.items()]
