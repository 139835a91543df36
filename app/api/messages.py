from __future__ import annotations

from ..services.running import messages
from . import bp
from .common import current_actor, services
from .contract import body as request_body


@bp.post("/messages")
def send_message():
    actor = current_actor()
    body = request_body()
    delivered = messages.send_message(
        services(), actor, body["name"], body.get("correlations", {}), body.get("payload", {})
    )
    return {"instances": delivered}, 202
