from __future__ import annotations

from ..services.work import tasks
from . import bp
from .common import current_actor, services
from .contract import body as request_body
from .contract import query


@bp.get("/tasks")
def list_tasks():
    return {
        "tasks": tasks.list_tasks(
            services(),
            current_actor(),
            scope=query("scope", "mine"),
            model_id=query("process_model"),
            instance_id=query("instance"),
            limit=query("limit", 100),
            offset=query("offset", 0),
        )
    }


@bp.get("/tasks/<task_id>")
def get_task(task_id: str):
    return tasks.get_task(services(), current_actor(), task_id)


@bp.post("/tasks/<task_id>/claim")
def claim_task(task_id: str):
    return tasks.claim_task(services(), current_actor(), task_id)


@bp.post("/tasks/<task_id>/unclaim")
def unclaim_task(task_id: str):
    return tasks.unclaim_task(services(), current_actor(), task_id)


@bp.post("/tasks/<task_id>/assign")
def assign_task(task_id: str):
    actor = current_actor()
    return tasks.assign_task(services(), actor, task_id, request_body().get("username"))


@bp.post("/tasks/<task_id>/complete")
def complete_task(task_id: str):
    return tasks.complete_task(services(), current_actor(), task_id, request_body().get("data", {}))
