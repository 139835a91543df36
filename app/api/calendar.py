"""Working-day transfers recorded by administrators."""

from __future__ import annotations

from ..services.time import calendar_transfers
from . import bp
from .common import current_actor, services
from .contract import body as request_body


@bp.get("/calendar/transfers")
def list_transfers():
    return {"transfers": calendar_transfers.list_transfers(services(), current_actor())}


@bp.post("/calendar/transfers")
def set_transfer():
    actor = current_actor()
    body = request_body()
    view = calendar_transfers.set_transfer(services(), actor, body["day"], body["kind"], body.get("note", ""))
    return view, 201


@bp.delete("/calendar/transfers/<day>")
def remove_transfer(day: str):
    return calendar_transfers.remove_transfer(services(), current_actor(), day)
