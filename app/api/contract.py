"""The API's contract: `openapi.json` in this folder is checked on every request before its handler
runs. Handlers read the checked values (`query`, `body`) and never repeat the document's types,
bounds or required fields.

From the document, each operation's parameter and body schemas are compiled once into jsonschema
validators (the same Draft 2020-12 the document declares, with its format checks); a request costs
a dictionary lookup and those validations. openapi-core does the same work but took about 3 ms a
request here, which halved the throughput of the lifecycle benchmark.

Refusals keep the API's error body, with one detail per field:
- a query or path parameter that is empty, not of its type or out of its bounds: 400;
- a parameter that is not one of its listed values, or a JSON body field off its schema: 422;
- a body that is not a JSON object, or not JSON at all: 400; no bearer token where one is needed: 401.
Multipart uploads are checked part by part by their handler (the operation's description states the
rules). An operation the document lacks is a server error: the document and the routes must agree,
and tests/api/test_openapi.py keeps them so.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from typing import Any

from flask import g, request
from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry
from referencing.jsonschema import DRAFT202012

from ..errors import AppError, BadRequest, InvalidInput, Unauthorized
from . import bp
from .openapi import document_bytes
from .refusals import field_of, message_of

# Served as it is, so that a client can always read what the rest expects.
UNCHECKED_ENDPOINTS = {"api.openapi_document"}
NOT_AN_OBJECT = "the request body must be a JSON object"
BASE_URI = "urn:api-document"
FLASK_PARAMETER = re.compile(r"<(?:[a-z_]+:)?([A-Za-z_][A-Za-z0-9_]*)>")
INTEGER = re.compile(r"^-?\d+$")


@dataclass(frozen=True)
class Parameter:
    name: str
    location: str  # "query" or "path"
    required: bool
    kind: str  # the schema's type: integer, number, boolean or string
    default: Any
    validator: Draft202012Validator


@dataclass(frozen=True)
class Operation:
    parameters: tuple[Parameter, ...]
    body: Draft202012Validator | None
    media_types: frozenset[str]
    secured: bool


def _resolved(document: dict[str, Any], node: Any) -> Any:
    while isinstance(node, dict) and "$ref" in node:
        target: Any = document
        for token in node["$ref"].lstrip("#/").split("/"):
            target = target[token.replace("~1", "/").replace("~0", "~")]
        node = target
    return node


@cache
def operations() -> dict[tuple[str, str], Operation]:
    """Every operation of the document by (method, path template), its validators compiled."""
    document = json.loads(document_bytes())
    registry = Registry().with_resource(BASE_URI, DRAFT202012.create_resource(document))
    checker = FormatChecker()

    def compiled(schema: Any) -> Draft202012Validator:
        # Its $refs point into the document, which the registry holds under BASE_URI.
        text = json.dumps(schema).replace('"$ref": "#/', f'"$ref": "{BASE_URI}#/')
        return Draft202012Validator(json.loads(text), registry=registry, format_checker=checker)

    table: dict[tuple[str, str], Operation] = {}
    for path, item in document["paths"].items():
        shared = item.get("parameters", [])
        for method, operation in item.items():
            if method == "parameters" or not isinstance(operation, dict):
                continue
            parameters = []
            for raw in [*shared, *operation.get("parameters", [])]:
                spec = _resolved(document, raw)
                schema = _resolved(document, spec.get("schema", {}))
                parameters.append(
                    Parameter(
                        spec["name"],
                        spec["in"],
                        bool(spec.get("required")),
                        str(schema.get("type", "string")),
                        schema.get("default"),
                        compiled(spec.get("schema", {})),
                    )
                )
            content = _resolved(document, operation.get("requestBody", {})).get("content", {})
            json_schema = (content.get("application/json") or {}).get("schema")
            table[(method.upper(), path)] = Operation(
                tuple(parameters),
                compiled(json_schema) if json_schema is not None else None,
                frozenset(content),
                bool(operation.get("security", document.get("security", []))),
            )
    return table


@cache
def _template(rule: str) -> str:
    """/api/v1/tasks/<task_id>/claim -> /tasks/{task_id}/claim"""
    return FLASK_PARAMETER.sub(r"{\1}", rule.removeprefix(bp.url_prefix or ""))


@bp.before_request
def check_request() -> None:
    if request.endpoint in UNCHECKED_ENDPOINTS or request.url_rule is None or request.method == "OPTIONS":
        return  # unrouted: Flask answers 404 or 405 itself; OPTIONS lists the methods
    method = "GET" if request.method == "HEAD" else request.method
    operation = operations().get((method, _template(request.url_rule.rule)))
    if operation is None:
        raise RuntimeError(f"{method} {request.url_rule.rule} is routed but not in the API document")
    if operation.secured and not request.headers.get("Authorization", "").lower().startswith("bearer "):
        raise Unauthorized("a bearer token is required")
    g.checked_query = _checked_parameters(operation)
    if operation.media_types:
        _check_body(operation)


def query(name: str, default: Any = None) -> Any:
    """A query parameter as the document types it (an integer is an int), or `default`."""
    value = g.checked_query.get(name)
    return default if value is None else value


def body() -> dict[str, Any]:
    """The JSON request body, already checked against the operation's schema."""
    value = request.get_json(silent=True)
    return value if isinstance(value, dict) else {}


def _checked_parameters(operation: Operation) -> dict[str, Any]:
    values: dict[str, Any] = {}
    problems: list[tuple[Parameter, str]] = []
    for parameter in operation.parameters:
        if parameter.location == "path":
            raw = (request.view_args or {}).get(parameter.name)
            raw = None if raw is None else str(raw)
        else:
            raw = request.args.get(parameter.name)
        if raw is None:
            if parameter.required:
                problems.append((parameter, "is required"))
            values[parameter.name] = parameter.default
            continue
        value, problem = _typed(parameter, raw)
        if problem is None:
            errors = list(parameter.validator.iter_errors(value))
            problem = "; ".join(message_of(e) for e in errors) if errors else None
            if errors and all(e.validator == "enum" for e in errors):
                problem = "enum:" + problem
        if problem is not None:
            problems.append((parameter, problem))
        values[parameter.name] = value
    if problems:
        raise _parameter_refusal(problems)
    return values


def _typed(parameter: Parameter, raw: str) -> tuple[Any, str | None]:
    if raw == "":
        return None, "must not be empty"
    if parameter.kind == "integer":
        return (int(raw), None) if INTEGER.match(raw) else (None, "must be an integer")
    if parameter.kind == "number":
        try:
            return float(raw), None
        except ValueError:
            return None, "must be a number"
    if parameter.kind == "boolean":
        return (raw == "true", None) if raw in ("true", "false") else (None, "must be true or false")
    return raw, None


def _parameter_refusal(problems: list[tuple[Parameter, str]]) -> AppError:
    unlisted = all(problem.startswith("enum:") for _, problem in problems)
    details = [{"field": p.name, "message": problem.removeprefix("enum:")} for p, problem in problems]
    first = problems[0][0]
    message = f"{first.location} parameter '{first.name}' {details[0]['message']}"
    return (InvalidInput if unlisted else BadRequest)(message, details)


def _check_body(operation: Operation) -> None:
    if request.mimetype not in operation.media_types:
        raise BadRequest(f"the request body must be {' or '.join(sorted(operation.media_types))}")
    if operation.body is None:
        return  # an upload: its handler reads the parts
    value = request.get_json(silent=True)
    if not isinstance(value, dict):
        raise BadRequest(NOT_AN_OBJECT)
    errors = sorted(operation.body.iter_errors(value), key=lambda e: list(map(str, e.absolute_path)))
    if errors:
        details = [{"field": field_of(e), "message": message_of(e)} for e in errors]
        raise InvalidInput(f"{details[0]['field']}: {details[0]['message']}", details)
