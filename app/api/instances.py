from __future__ import annotations

from datetime import date

from ..services.running import instance_search, instances, migration, suspension
from . import bp
from .common import current_actor, services
from .contract import body as request_body
from .contract import query


@bp.post("/process-instances")
def start_instance():
    actor = current_actor()
    body = request_body()
    view = instances.start_instance(services(), actor, body["process_model"], body.get("data", {}))
    return view, 201


@bp.get("/process-instances")
def list_instances():
    dates = {name: _day(query(name)) for name in ("started_from", "started_to", "ended_from", "ended_to")}
    found = instance_search.list_instances(
        services(),
        current_actor(),
        status=query("status"),
        model_id=query("process_model"),
        version=query("version"),
        started_by=query("started_by"),
        business_key=query("business_key"),
        field=query("field"),
        value=query("value"),
        sort=query("sort", "newest"),
        limit=query("limit", 100),
        offset=query("offset", 0),
        **dates,
    )
    return {"process_instances": found}


def _day(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None  # the document checked its format


@bp.get("/process-instances/<int:instance_id>")
def get_instance(instance_id: int):
    return instances.get_instance(services(), current_actor(), instance_id)


@bp.get("/process-instances/<int:instance_id>/log")
def instance_log(instance_id: int):
    return {"log": instances.printed_log(services(), current_actor(), instance_id)}


@bp.get("/process-instances/<int:instance_id>/history")
def instance_history(instance_id: int):
    return {"history": instances.history(services(), current_actor(), instance_id)}


@bp.post("/process-instances/<int:instance_id>/cancel")
def cancel_instance(instance_id: int):
    return instances.cancel_instance(services(), current_actor(), instance_id)


@bp.post("/process-instances/<int:instance_id>/retry")
def retry_instance(instance_id: int):
    return instances.retry_instance(services(), current_actor(), instance_id)


@bp.post("/process-instances/<int:instance_id>/suspend")
def suspend_instance(instance_id: int):
    return suspension.suspend_instance(services(), current_actor(), instance_id)


@bp.post("/process-instances/<int:instance_id>/resume")
def resume_instance(instance_id: int):
    return suspension.resume_instance(services(), current_actor(), instance_id)


@bp.get("/process-instances/<int:instance_id>/migration")
def preview_migration(instance_id: int):
    return migration.preview(services(), current_actor(), instance_id, query("to"))


@bp.post("/process-instances/<int:instance_id>/migrate")
def migrate_instance(instance_id: int):
    return migration.migrate_instance(services(), current_actor(), instance_id, request_body()["to"])
