from __future__ import annotations

from ..services.running import messages
from . import bp
from .common import current_actor, json_body, services, string_fields


@bp.post("/messages")
def send_message():
    actor = current_actor()
    body = json_body()
    string_fields(body, "name")
    delivered = messages.send_message(
        services(), actor, body.get("name", ""), body.get("correlations", {}), body.get("payload", {})
    )
    return {"instances": delivered}, 202
