from __future__ import annotations

from ..errors import InvalidInput
from ..services.people import users
from . import bp
from .common import current_actor, json_body, services, string_fields


@bp.get("/users")
def list_users():
    return {"users": users.list_users(services(), current_actor())}


@bp.post("/users")
def create_user():
    actor = current_actor()
    body = json_body()
    string_fields(body, "username", "password", "display_name", "language")
    groups = body.get("groups", [])
    if not isinstance(groups, list) or not all(isinstance(g, str) for g in groups):
        raise InvalidInput(
            "groups must be a list of names", [{"field": "groups", "message": "list of strings"}]
        )
    created = users.create_user(
        services(),
        actor,
        username=body.get("username", ""),
        password=body.get("password", ""),
        display_name=body.get("display_name", ""),
        groups=groups,
        language=body.get("language", "kk"),
    )
    return created, 201


@bp.get("/groups/<name>/members")
def group_members(name: str):
    return {"members": users.get_group_members(services(), current_actor(), name)}


@bp.put("/groups/<name>/members")
def set_group_members(name: str):
    actor = current_actor()
    members = json_body().get("members")
    if not isinstance(members, list) or not all(isinstance(m, str) for m in members):
        raise InvalidInput(
            "members must be a list of usernames", [{"field": "members", "message": "list of strings"}]
        )
    return {"members": users.set_group_members(services(), actor, name, members)}
