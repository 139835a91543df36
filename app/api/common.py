"""Helpers shared by the API views: the services, the current actor, the JSON body."""

from __future__ import annotations

from typing import Any

from flask import current_app, g, request

from ..errors import BadRequest, Unauthorized
from ..services import users
from ..services.context import ServiceContext
from ..services.users import Actor


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


def int_arg(name: str, default: int) -> int:
    value = request.args.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError as exc:
        raise BadRequest(f"query parameter '{name}' must be an integer") from exc
