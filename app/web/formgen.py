"""Form fields from a JSON Schema (2020-12) and its UI schema, and submitted values back to data.

Field names in HTML: `name`, and `name.3.column` for the rows of an array of objects. Errors of the
services come as JSON paths (`$.name`, `$.rows[3].column`) and are matched to those names.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from werkzeug.datastructures import FileStorage, MultiDict

from .i18n import localized


@dataclass
class Field:
    name: str
    kind: str  # text textarea number integer date datetime select radio checkbox multi rows file
    label: str
    help: str = ""
    required: bool = False
    options: list[tuple[str, str]] = field(default_factory=list)
    value: Any = ""
    error: str = ""
    attrs: dict[str, Any] = field(default_factory=dict)
    # Required only while other fields hold given values (`allOf: [{if, then: {required}}]`):
    # {field: [values]}, rendered for the page's script, which marks the field as they change.
    required_when: list[dict[str, list[Any]]] = field(default_factory=list)

    @property
    def required_when_json(self) -> str:
        return json.dumps(self.required_when, ensure_ascii=False) if self.required_when else ""

    columns: list[Field] = field(default_factory=list)
    rows: list[list[Field]] = field(default_factory=list)


def _kind(schema: dict[str, Any], ui: dict[str, Any]) -> str:
    widget = ui.get("ui:widget", "")
    kind = schema.get("type")
    if widget == "file" or schema.get("format") == "attachment":
        return "file"
    if kind == "array":
        items = schema.get("items") or {}
        if "enum" in items:
            return "multi"
        return "rows"
    if kind == "boolean":
        return "checkbox"
    if "enum" in schema:
        return "radio" if widget == "radio" else "select"
    if kind in ("integer", "number"):
        return kind
    if schema.get("format") == "date" or widget == "date":
        return "date"
    if schema.get("format") == "date-time":
        return "datetime"
    return "textarea" if widget == "textarea" else "text"


def _attrs(schema: dict[str, Any]) -> dict[str, Any]:
    attrs: dict[str, Any] = {}
    if "maxLength" in schema:
        # Not `maxlength`, with which the browser silently cuts a pasted text: the page counts
        # the characters, and the server refuses a text that is too long, at its field.
        attrs["data-maxlength"] = schema["maxLength"]
    if "minimum" in schema:
        attrs["min"] = schema["minimum"]
    if "maximum" in schema:
        attrs["max"] = schema["maximum"]
    if schema.get("type") == "integer":
        attrs["step"] = 1
    elif schema.get("type") == "number":
        attrs["step"] = "any"
    return attrs


def _options(schema: dict[str, Any], ui: dict[str, Any]) -> list[tuple[str, str]]:
    values = schema.get("enum") or []
    names = ui.get("ui:enumNames")
    labels = localized_list(names) if names else []
    return [(str(v), labels[i] if i < len(labels) else str(v)) for i, v in enumerate(values)]


def localized_list(texts: Any) -> list[str]:
    if isinstance(texts, list):
        return [str(t) for t in texts]
    if isinstance(texts, dict) and texts:
        from flask_babel import get_locale

        language = str(get_locale() or "kk")
        chosen = texts.get(language) or texts.get("en") or next(iter(texts.values()))
        return [str(t) for t in chosen or []]
    return []


def _ordered(schema: dict[str, Any], ui: dict[str, Any]) -> list[str]:
    names = list((schema.get("properties") or {}).keys())
    order = [n for n in ui.get("ui:order", []) if n in names]
    return order + [n for n in names if n not in order]


def build_fields(
    schema: dict[str, Any] | None,
    ui: dict[str, Any] | None,
    values: MultiDict[str, str],
    errors: dict[str, str],
    prefix: str = "",
    timezone: str = "Asia/Almaty",
) -> list[Field]:
    """The fields of an object schema, filled with raw values and errors keyed by HTML name."""
    schema, ui = schema or {}, ui or {}
    required = set(schema.get("required") or [])
    conditions = _conditional_requirements(schema)
    fields = []
    for prop in _ordered(schema, ui):
        sub = schema["properties"][prop]
        sub_ui = ui.get(prop) or {}
        name = f"{prefix}{prop}"
        kind = _kind(sub, sub_ui)
        item = Field(
            name=name,
            kind=kind,
            label=localized(sub_ui.get("ui:label"), sub.get("title") or prop),
            help=localized(sub_ui.get("ui:help"), sub.get("description", "")),
            required=prop in required and not _nullable(sub),
            options=_options(sub.get("items", {}) if kind == "multi" else sub, sub_ui),
            value=values.getlist(name) if kind == "multi" else values.get(name, ""),
            error=errors.get(name, ""),
            attrs=_attrs(sub),
        )
        if not item.required and prop in conditions:
            item.required_when = conditions[prop]
            item.required = any(_holds(condition, values, prefix) for condition in conditions[prop])
        if kind == "datetime" and item.value:
            item.value = datetime_local(item.value, timezone)
        if kind == "rows":
            items = sub.get("items") or {}
            item_ui = sub_ui.get("items") or {}
            if items.get("type") != "object":  # an array of plain values: one column named "value"
                items, item_ui = {"type": "object", "properties": {"value": items}}, {"value": item_ui}
            item.columns = build_fields(items, item_ui, MultiDict(), {}, f"{name}.__INDEX__.", timezone)
            item.rows = [
                build_fields(items, item_ui, values, errors, f"{name}.{i}.", timezone)
                for i in row_indices(values, name)
            ]
        fields.append(item)
    return fields


def _nullable(schema: dict[str, Any]) -> bool:
    kind = schema.get("type")
    return kind == "null" or (isinstance(kind, list) and "null" in kind)


def _conditional_requirements(schema: dict[str, Any]) -> dict[str, list[dict[str, list[Any]]]]:
    """Fields required by `if {properties: {x: {const | enum}}} then {required}` clauses of
    `allOf`: for each field, the conditions (field -> accepted values) under which it is."""
    found: dict[str, list[dict[str, list[Any]]]] = {}
    for clause in schema.get("allOf") or []:
        test, then = clause.get("if") or {}, clause.get("then") or {}
        condition: dict[str, list[Any]] = {}
        for name, rule in (test.get("properties") or {}).items():
            if "const" in rule:
                condition[name] = [rule["const"]]
            elif isinstance(rule.get("enum"), list):
                condition[name] = list(rule["enum"])
        if not condition or set(test) - {"properties", "required"}:
            continue  # a condition the page cannot follow: the server still checks it
        for name in then.get("required") or []:
            found.setdefault(name, []).append(condition)
    return found


def _holds(condition: dict[str, list[Any]], values: MultiDict[str, str], prefix: str) -> bool:
    for name, accepted in condition.items():
        raw = values.get(f"{prefix}{name}")
        given = raw in ("on", "true", "1") if isinstance(accepted[0], bool) else raw
        if not any(given == (value if isinstance(value, bool) else str(value)) for value in accepted):
            return False
    return True


def row_indices(values: MultiDict[str, Any], name: str) -> list[int]:
    pattern = re.compile(rf"^{re.escape(name)}\.(\d+)\.")
    found = {int(m.group(1)) for key in values for m in [pattern.match(key)] if m}
    return sorted(found)


# Submitted form -> data --------------------------------------------------------------------------


def _scalar(schema: dict[str, Any], kind: str, raw: str, timezone: str) -> Any:
    if "enum" in schema:
        return next((v for v in schema["enum"] if str(v) == raw), raw)
    if kind in ("integer", "number"):
        try:
            return (
                int(raw)
                if kind == "integer"
                else float(raw)
                if "." in raw or "e" in raw.lower()
                else int(raw)
            )
        except ValueError:
            return raw
    if kind == "datetime":
        try:
            local = datetime.fromisoformat(raw)
        except ValueError:
            return raw
        return (local if local.tzinfo else local.replace(tzinfo=ZoneInfo(timezone))).isoformat()
    return raw


def parse_form(
    schema: dict[str, Any] | None,
    ui: dict[str, Any] | None,
    form: MultiDict[str, str],
    files: MultiDict[str, FileStorage],
    timezone: str,
    prefix: str = "",
) -> tuple[dict[str, Any], list[tuple[str, FileStorage]]]:
    """Typed data for the schema (empty optional values left out) and the uploaded files by name."""
    schema, ui = schema or {}, ui or {}
    data: dict[str, Any] = {}
    uploads: list[tuple[str, FileStorage]] = []
    for prop in _ordered(schema, ui):
        sub = schema["properties"][prop]
        name = f"{prefix}{prop}"
        kind = _kind(sub, ui.get(prop) or {})
        if kind == "checkbox":
            data[prop] = form.get(name) in ("on", "true", "1")
        elif kind == "multi":
            items = sub.get("items") or {}
            data[prop] = [_scalar(items, "text", v, timezone) for v in form.getlist(name)]
        elif kind == "rows":
            items = sub.get("items") or {}
            item_ui = (ui.get(prop) or {}).get("items") or {}
            plain = items.get("type") != "object"
            if plain:
                items, item_ui = {"type": "object", "properties": {"value": items}}, {"value": item_ui}
            rows = []
            for i in row_indices(form, name):
                row, row_files = parse_form(items, item_ui, form, files, timezone, f"{name}.{i}.")
                uploads.extend(row_files)
                if any(v not in ("", None, False, []) for v in row.values()):
                    rows.append(row.get("value") if plain else row)
            data[prop] = rows
        elif kind == "file":
            upload = files.get(name)
            if upload is not None and upload.filename:
                uploads.append((name, upload))
                data[prop] = ""  # replaced by the attachment id once stored
            elif form.get(name):
                data[prop] = form[name]
        else:
            raw = form.get(name, "")
            if raw.strip() != "":
                data[prop] = _scalar(sub, kind, raw, timezone)
            elif _nullable(sub) and name in form:
                data[prop] = None  # left empty where the form allows "none" (e.g. the default term)
    return data, uploads


def set_path(data: dict[str, Any], name: str, value: Any) -> None:
    """Set `rows.3.column` in the parsed data (rows compacted in order, as parse_form does)."""
    parts = name.split(".")
    target: Any = data
    for part in parts[:-1]:
        target = target[int(part)] if isinstance(target, list) else target[part]
    target[parts[-1]] = value


# Data -> raw values, errors -> names -------------------------------------------------------------


def flatten(data: Any, prefix: str = "", timezone: str = "Asia/Almaty") -> MultiDict[str, str]:
    """Raw form values for data (pre-filling a form from the instance data)."""
    out: MultiDict[str, str] = MultiDict()
    if not isinstance(data, dict):
        return out
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, bool):
            if value:
                out.add(name, "on")
        elif isinstance(value, list):
            for i, entry in enumerate(value):
                if isinstance(entry, dict):
                    for key_, raw in flatten(entry, f"{name}.{i}.", timezone).items(multi=True):
                        out.add(key_, raw)
                elif isinstance(entry, str | int | float):
                    out.add(name, str(entry))
                    out.add(f"{name}.{i}.value", str(entry))
        elif isinstance(value, str | int | float):
            out.add(name, str(value))
    return out


def field_name(path: str) -> str:
    """`$.rows[3].column` -> `rows.3.column`; `$` -> ``."""
    name = path.removeprefix("$").removeprefix(".")
    return re.sub(r"\[(\d+)\]", r".\1", name)


def datetime_local(value: str, timezone: str) -> str:
    """An ISO date-time as the value of an <input type=datetime-local> in local time."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value
    if moment.tzinfo:
        moment = moment.astimezone(ZoneInfo(timezone))
    return moment.strftime("%Y-%m-%dT%H:%M")
