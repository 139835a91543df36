from __future__ import annotations

from ..services.people import users
from . import bp
from .common import current_actor, services
from .contract import body as request_body


@bp.post("/auth/token")
def issue_token():
    body = request_body()
    actor = users.authenticate(services(), body["username"], body["password"])
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
