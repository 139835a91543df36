from __future__ import annotations

from ..services.people import users
from . import bp
from .common import current_actor, services
from .contract import body as request_body


@bp.get("/users")
def list_users():
    return {"users": users.list_users(services(), current_actor())}


@bp.post("/users")
def create_user():
    actor = current_actor()
    body = request_body()
    created = users.create_user(
        services(),
        actor,
        username=body["username"],
        password=body["password"],
        display_name=body.get("display_name", ""),
        groups=body.get("groups", []),
        language=body.get("language", "kk"),
    )
    return created, 201


@bp.get("/groups/<name>/members")
def group_members(name: str):
    return {"members": users.get_group_members(services(), current_actor(), name)}


@bp.put("/groups/<name>/members")
def set_group_members(name: str):
    actor = current_actor()
    members = request_body()["members"]
    return {"members": users.set_group_members(services(), actor, name, members)}
