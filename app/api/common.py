"""Helpers shared by the API views: the services and the current actor (the request itself is read
through `contract`, which has checked it against the document)."""

from __future__ import annotations

from flask import current_app, g, request

from ..errors import Unauthorized
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
