from __future__ import annotations

from ..services import messages
from . import bp
from .common import current_actor, json_body, services


@bp.post("/messages")
def send_message():
    body = json_body()
    delivered = messages.send_message(
        services(),
        current_actor(),
        str(body.get("name", "")),
        body.get("correlations", {}),
        body.get("payload", {}),
    )
    return {"instances": delivered}, 202
