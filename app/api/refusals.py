"""What a request that breaks the document's schemas is told: one detail per field, in the words the
API has always used ("required", "list of strings", "at most 255 characters")."""

from __future__ import annotations

import re
from typing import Any

from jsonschema.exceptions import ValidationError as SchemaError

REQUIRED_PROPERTY = re.compile(r"^'(.+)' is a required property$")
ARTICLE = {"array": "an array", "object": "an object", "integer": "an integer", "null": "null"}


def field_of(error: SchemaError) -> str:
    """A body field as the API names it: `members`, `data.amount`, `deputies[1]`."""
    path = list(error.absolute_path)
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        allowed = set(error.schema.get("properties") or {}) if isinstance(error.schema, dict) else set()
        path.append(next((str(k) for k in sorted(error.instance, key=str) if k not in allowed), ""))
    if error.validator == "required":
        found = REQUIRED_PROPERTY.match(error.message)
        path.append(found.group(1) if found else "")
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else f".{part}" if text else str(part)
    return text


def message_of(error: SchemaError) -> str:
    """What a person fixes."""
    rule, value = error.validator, error.validator_value
    if rule == "required":
        return "required"
    if rule == "additionalProperties":
        return "not a field of this request"
    if rule == "enum":
        return "one of " + ", ".join(str(v) for v in value)
    if rule == "format":
        return f"must be a {value} (ISO 8601)" if value in ("date", "date-time") else f"must be a {value}"
    if rule == "type":
        return expected_type(value, error.schema if isinstance(error.schema, dict) else {})
    bounds = {
        "maxLength": f"at most {value} characters",
        "minLength": "must not be empty" if value == 1 else f"at least {value} characters",
        "maximum": f"must be at most {value}",
        "minimum": f"must be at least {value}",
        "maxItems": f"at most {value} items",
        "minItems": f"at least {value} item" + ("" if value == 1 else "s"),
        "pattern": "does not have the expected form",
    }
    return bounds.get(str(rule), error.message)


def expected_type(value: Any, schema: dict[str, Any]) -> str:
    types = value if isinstance(value, list) else [value]
    items = schema.get("items")
    if types == ["array"] and isinstance(items, dict) and items.get("type") == "string":
        return "list of strings"
    if len(types) > 1:
        return " or ".join(str(t) for t in types)
    return f"must be {ARTICLE.get(types[0], 'a ' + str(types[0]))}"
