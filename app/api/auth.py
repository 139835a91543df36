from __future__ import annotations

from ..errors import InvalidInput
from ..services.people import users
from . import bp
from .common import current_actor, json_body, services


@bp.post("/auth/token")
def issue_token():
    body = json_body()
    username, password = body.get("username"), body.get("password")
    if not isinstance(username, str) or not isinstance(password, str):
        raise InvalidInput(
            "username and password are required",
            [{"field": "username", "message": "required"}, {"field": "password", "message": "required"}],
        )
    actor = users.authenticate(services(), username, password)
    return {
        "token": users.issue_token(services(), actor),
        "token_type": "Bearer",
        "expires_in": services().settings.token_max_age_seconds,
    }


@bp.get("/me")
def me():
    actor = current_actor()
    return {
        "username": actor.username,
        "display_name": actor.display_name,
        "language": actor.language,
        "groups": sorted(actor.groups),
        "lead_of": sorted(actor.lead_of),
        "is_admin": actor.is_admin,
    }
