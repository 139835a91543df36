from __future__ import annotations

from flask import request

from ..errors import InvalidInput
from ..services.running import instances
from . import bp
from .common import current_actor, int_arg, json_body, services


@bp.post("/process-instances")
def start_instance():
    actor = current_actor()
    body = json_body()
    model_id = body.get("process_model")
    if not isinstance(model_id, str) or not model_id:
        raise InvalidInput("process_model is required", [{"field": "process_model", "message": "required"}])
    view = instances.start_instance(services(), actor, model_id, body.get("data", {}))
    return view, 201


@bp.get("/process-instances")
def list_instances():
    return {
        "process_instances": instances.list_instances(
            services(),
            current_actor(),
            status=request.args.get("status") or None,
            model_id=request.args.get("process_model") or None,
            limit=int_arg("limit", 100, minimum=1, maximum=1000),
            offset=int_arg("offset", 0, minimum=0),
        )
    }


@bp.get("/process-instances/<int:instance_id>")
def get_instance(instance_id: int):
    return instances.get_instance(services(), current_actor(), instance_id)


@bp.get("/process-instances/<int:instance_id>/history")
def instance_history(instance_id: int):
    return {"history": instances.history(services(), current_actor(), instance_id)}


@bp.post("/process-instances/<int:instance_id>/cancel")
def cancel_instance(instance_id: int):
    return instances.cancel_instance(services(), current_actor(), instance_id)


@bp.post("/process-instances/<int:instance_id>/retry")
def retry_instance(instance_id: int):
    return instances.retry_instance(services(), current_actor(), instance_id)
