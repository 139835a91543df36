"""Working-day transfers recorded by administrators."""

from __future__ import annotations

from ..services.time import calendar_transfers
from . import bp
from .common import current_actor, json_body, services, string_fields


@bp.get("/calendar/transfers")
def list_transfers():
    return {"transfers": calendar_transfers.list_transfers(services(), current_actor())}


@bp.post("/calendar/transfers")
def set_transfer():
    actor = current_actor()
    body = json_body()
    string_fields(body, "day", "kind", "note")
    view = calendar_transfers.set_transfer(
        services(), actor, body.get("day", ""), body.get("kind", ""), body.get("note", "")
    )
    return view, 201


@bp.delete("/calendar/transfers/<day>")
def remove_transfer(day: str):
    return calendar_transfers.remove_transfer(services(), current_actor(), day)
