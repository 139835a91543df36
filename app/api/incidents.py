"""Failed instances for administrators: list, retry or cancel many, and correct an instance's data."""

from __future__ import annotations

from ..services.running import incidents
from . import bp
from .common import current_actor, services
from .contract import body as request_body
from .contract import query


@bp.get("/incidents")
def list_incidents():
    found = incidents.list_incidents(
        services(),
        current_actor(),
        model_id=query("process_model"),
        limit=query("limit", 100),
        offset=query("offset", 0),
    )
    return {"incidents": found}


@bp.post("/incidents/retry")
def retry_incidents():
    return {"results": incidents.retry_many(services(), current_actor(), request_body()["instances"])}


@bp.post("/incidents/cancel")
def cancel_incidents():
    return {"results": incidents.cancel_many(services(), current_actor(), request_body()["instances"])}


@bp.put("/process-instances/<int:instance_id>/data")
def edit_instance_data(instance_id: int):
    return incidents.edit_data(services(), current_actor(), instance_id, request_body()["data"])
