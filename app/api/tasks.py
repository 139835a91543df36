from __future__ import annotations

from flask import request

from ..errors import InvalidInput
from ..services.work import tasks
from . import bp
from .common import MAX_ID, current_actor, int_arg, json_body, services


@bp.get("/tasks")
def list_tasks():
    instance = request.args.get("instance")
    return {
        "tasks": tasks.list_tasks(
            services(),
            current_actor(),
            scope=request.args.get("scope", "mine"),
            model_id=request.args.get("process_model") or None,
            instance_id=int_arg("instance", 0, maximum=MAX_ID) if instance else None,
            limit=int_arg("limit", 100, minimum=1, maximum=1000),
            offset=int_arg("offset", 0, minimum=0),
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
    username = json_body().get("username")
    if username is not None and not isinstance(username, str):
        raise InvalidInput(
            "username must be a string or null", [{"field": "username", "message": "string or null"}]
        )
    return tasks.assign_task(services(), actor, task_id, username)


@bp.post("/tasks/<task_id>/complete")
def complete_task(task_id: str):
    return tasks.complete_task(services(), current_actor(), task_id, json_body().get("data", {}))
