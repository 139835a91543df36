"""Helpers shared by the API views: the services, the current actor, the JSON body."""

from __future__ import annotations

from typing import Any

from flask import current_app, g, request

from ..errors import BadRequest, InvalidInput, Unauthorized
from ..services.context import ServiceContext
from ..services.people import users
from ..services.people.users import Actor


def services() -> ServiceContext:
    return current_app.extensions["services"]


def current_actor() -> Actor:
    """The user behind the request's bearer token (401 without a valid one)."""
    if "actor" not in g:
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise Unauthorized("a bearer token is required")
        g.actor = users.actor_from_token(services(), token.strip())
    return g.actor


def json_body() -> dict[str, Any]:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise BadRequest("the request body must be a JSON object")
    return body


# What the databases take: ids and versions are INTEGER columns (32 bits on PostgreSQL); an
# offset may be any signed 64-bit integer.
MAX_ID = 2**31 - 1
MAX_INT = 2**63 - 1


def int_arg(name: str, default: int, minimum: int | None = None, maximum: int = MAX_INT) -> int:
    """A query parameter as an integer within bounds (the OpenAPI document states the same);
    400 naming the parameter otherwise, never a silent cap."""
    value = request.args.get(name)
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except ValueError as exc:
        raise _bad(name, "must be an integer") from exc
    if minimum is not None and number < minimum:
        raise _bad(name, f"must be at least {minimum}")
    if number > maximum:
        raise _bad(name, f"must be at most {maximum}")
    return number


def _bad(name: str, problem: str) -> BadRequest:
    return BadRequest(f"query parameter '{name}' {problem}", [{"field": name, "message": problem}])


def string_fields(body: dict[str, Any], *names: str) -> None:
    """422 for fields that are present but not strings (null included)."""
    for name in names:
        if name in body and not isinstance(body[name], str):
            raise InvalidInput(f"{name} must be a string", [{"field": name, "message": "must be a string"}])
