"""The OpenAPI document as a test oracle: find the operation of a request and check a response
against what the document says for its status (JSON bodies validated with jsonschema, $ref resolved)."""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry
from referencing.jsonschema import DRAFT202012

DOCUMENT_PATH = Path(__file__).resolve().parents[2] / "app" / "api" / "openapi.json"
BASE_URI = "urn:openapi-document"
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


@cache
def document() -> dict[str, Any]:
    return json.loads(DOCUMENT_PATH.read_text(encoding="utf-8"))


def prefix() -> str:
    """The server URL the paths are relative to (/api/v1)."""
    return document()["servers"][0]["url"].rstrip("/")


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def resolve(pointer: str) -> Any:
    node: Any = document()
    for token in pointer.lstrip("/").split("/"):
        node = node[token.replace("~1", "/").replace("~0", "~")]
    return node


def documented_operations() -> set[tuple[str, str]]:
    """(METHOD, full path template) for every operation of the document."""
    return {
        (method.upper(), prefix() + path)
        for path, item in document()["paths"].items()
        for method in item
        if method in HTTP_METHODS
    }


@cache
def _templates() -> list[tuple[re.Pattern[str], str]]:
    patterns = []
    for path in document()["paths"]:
        regex = re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(path))
        patterns.append((re.compile(f"^{regex}$"), path))
    # literal segments win over parameters: fewer parameters first
    return sorted(patterns, key=lambda p: p[1].count("{"))


def match_path(url_path: str) -> str | None:
    """The document's path template for a request path such as /api/v1/tasks/abc/claim."""
    if not url_path.startswith(prefix() + "/"):
        return None
    relative = url_path[len(prefix()) :]
    for pattern, template in _templates():
        if pattern.match(relative):
            return template
    return None


@cache
def _registry() -> Registry:
    return Registry().with_resource(BASE_URI, DRAFT202012.create_resource(document()))


def validator_for(pointer: str) -> Draft202012Validator:
    """A validator for the schema at `pointer` in the document, resolving its $refs."""
    return Draft202012Validator(
        {"$ref": f"{BASE_URI}#{pointer}"}, registry=_registry(), format_checker=FormatChecker()
    )


def schema_errors(pointer: str, instance: Any) -> list[str]:
    return [
        f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}"
        for e in validator_for(pointer).iter_errors(instance)
    ]


def component_errors(name: str, instance: Any) -> list[str]:
    return schema_errors(f"/components/schemas/{name}", instance)


def response_pointer(method: str, template: str, status: int) -> str:
    """JSON pointer of the response object documented for this status (following a $ref)."""
    operation = f"/paths/{_escape(template)}/{method.lower()}"
    responses = resolve(operation)["responses"]
    if str(status) not in responses:
        raise AssertionError(
            f"{method} {template} answered {status}, which the document does not list "
            f"(it lists {sorted(responses)})"
        )
    pointer = f"{operation}/responses/{status}"
    reference = responses[str(status)].get("$ref")
    if reference:
        pointer = reference.removeprefix("#")
    return pointer


def check_response(method: str, url_path: str, status: int, content_type: str, body: bytes) -> None:
    """Raise AssertionError unless the response is what the document promises."""
    template = match_path(url_path)
    if template is None:
        raise AssertionError(f"{url_path} is not a path of the OpenAPI document")
    if method.lower() not in resolve(f"/paths/{_escape(template)}"):
        raise AssertionError(f"{method} {template} is not an operation of the OpenAPI document")
    pointer = response_pointer(method, template, status)
    content = resolve(pointer).get("content", {})
    if not content:
        return
    media_type = content_type.split(";")[0].strip()
    if media_type not in content:
        raise AssertionError(
            f"{method} {template} {status}: content type {media_type!r} not in {sorted(content)}"
        )
    if media_type != "application/json":
        return
    instance = json.loads(body)
    problems = schema_errors(f"{pointer}/content/{_escape(media_type)}/schema", instance)
    if problems:
        raise AssertionError(f"{method} {template} {status} does not match the document: {problems}")
