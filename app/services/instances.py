"""Process instances: start, read, list, cancel, retry."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select

from ..db.models import STATUSES, HumanTask, ProcessInstance
from ..engine import runner
from ..engine.errors import EngineError, TaskNotReady
from ..errors import Conflict, Forbidden, InvalidInput, NotFound
from . import audit
from .context import ServiceContext
from .deployments import latest_version, specs_of
from .instance_store import load_workflow, lock_instance, save_workflow, script_engine
from .tasks import task_summary
from .uow import UnitOfWork
from .users import Actor


def _may_start(actor: Actor, metadata: Mapping[str, Any]) -> bool:
    allowed = [g.strip() for g in str(metadata.get("start_groups", "")).split(",") if g.strip()]
    return not allowed or actor.is_admin or bool(actor.groups.intersection(allowed))


def start_in(
    ctx: ServiceContext, uow: UnitOfWork, actor: Actor, model_id: str, data: Mapping[str, Any]
) -> tuple[ProcessInstance, Any]:
    """Start an instance inside an open unit of work; returns it with its workflow."""
    version = latest_version(uow, model_id)
    if not _may_start(actor, version.metadata_json or {}):
        raise Forbidden(f"you may not start '{model_id}'")
    now = ctx.now()
    instance = ProcessInstance(
        model_id=model_id,
        version_id=version.id,
        version=version,
        status="running",
        state_json="{}",
        started_by=actor.username,
        created_at=now,
        updated_at=now,
    )
    uow.add(instance)
    workflow = runner.create(specs_of(ctx, version), data, script_engine(ctx, uow))
    error: EngineError | None = None
    try:
        runner.advance(workflow)
    except EngineError as exc:
        error = exc
    save_workflow(ctx, uow, instance, workflow, error=error)
    return instance, workflow


def start_instance(
    ctx: ServiceContext, actor: Actor, model_id: str, data: Mapping[str, Any]
) -> dict[str, Any]:
    if not isinstance(data, Mapping):
        raise InvalidInput("data must be a JSON object", [{"field": "data", "message": "expected an object"}])
    with ctx.uow(write=True) as uow:
        instance, _ = start_in(ctx, uow, actor, model_id, data)
        audit.record(
            uow,
            at=ctx.now(),
            actor=actor.username,
            action="instance.started",
            instance_id=instance.id,
            details={"model": model_id, "data": dict(data)},
        )
        view = instance_view(uow, instance)
        uow.commit()
    return view


def instance_view(uow: UnitOfWork, instance: ProcessInstance) -> dict[str, Any]:
    tasks = uow.session.scalars(
        select(HumanTask).where(HumanTask.instance_id == instance.id).order_by(HumanTask.created_at)
    )
    return {
        "id": instance.id,
        "process_model": instance.model_id,
        "version": instance.version.version,
        "status": instance.status,
        "data": instance.data,
        "tasks": [task_summary(t) for t in tasks],
        "error": (
            {"element_id": instance.error_element, "message": instance.error_message}
            if instance.status == "error"
            else None
        ),
        "started_by": instance.started_by,
        "created_at": instance.created_at.isoformat(),
        "updated_at": instance.updated_at.isoformat(),
        "element_states": instance.element_states,
    }


def _get(uow: UnitOfWork, instance_id: int) -> ProcessInstance:
    instance = uow.session.get(ProcessInstance, instance_id)
    if instance is None:
        raise NotFound(f"process instance {instance_id} not found")
    return instance


def get_instance(ctx: ServiceContext, actor: Actor, instance_id: int) -> dict[str, Any]:
    with ctx.uow() as uow:
        return instance_view(uow, _get(uow, instance_id))


def list_instances(
    ctx: ServiceContext,
    actor: Actor,
    *,
    status: str | None = None,
    model_id: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[dict[str, Any]]:
    if status and status not in STATUSES:
        raise InvalidInput(
            "unknown status", [{"field": "status", "message": f"one of {', '.join(STATUSES)}"}]
        )
    query = select(ProcessInstance).order_by(ProcessInstance.id.desc()).limit(min(limit, 1000)).offset(offset)
    if status:
        query = query.where(ProcessInstance.status == status)
    if model_id:
        query = query.where(ProcessInstance.model_id == model_id)
    with ctx.uow() as uow:
        return [
            {
                "id": i.id,
                "process_model": i.model_id,
                "version": i.version.version,
                "status": i.status,
                "started_by": i.started_by,
                "created_at": i.created_at.isoformat(),
                "updated_at": i.updated_at.isoformat(),
            }
            for i in uow.session.scalars(query)
        ]


def history(ctx: ServiceContext, actor: Actor, instance_id: int) -> list[dict[str, Any]]:
    with ctx.uow() as uow:
        _get(uow, instance_id)
        return [
            {
                "at": r.at.isoformat(),
                "actor": r.actor,
                "action": r.action,
                "task_id": r.task_id,
                "element_id": r.element_id,
                "details": r.details,
            }
            for r in audit.instance_history(uow, instance_id)
        ]


def cancel_instance(ctx: ServiceContext, actor: Actor, instance_id: int) -> dict[str, Any]:
    with ctx.uow(write=True) as uow:
        instance = lock_instance(uow, instance_id)
        if actor.username != instance.started_by and not actor.is_admin:
            raise Forbidden("only an administrator or the initiator may cancel an instance")
        if instance.status in ("complete", "cancelled"):
            raise Conflict(f"instance {instance_id} is already {instance.status}")
        workflow = load_workflow(ctx, uow, instance)
        runner.cancel(workflow)
        instance.status = "cancelled"
        save_workflow(ctx, uow, instance, workflow)
        audit.record(
            uow, at=ctx.now(), actor=actor.username, action="instance.cancelled", instance_id=instance.id
        )
        view = instance_view(uow, instance)
        uow.commit()
    return view


def retry_instance(ctx: ServiceContext, actor: Actor, instance_id: int) -> dict[str, Any]:
    actor.require_admin()
    with ctx.uow(write=True) as uow:
        instance = lock_instance(uow, instance_id)
        if instance.status != "error":
            raise Conflict(f"instance {instance_id} is not in error")
        workflow = load_workflow(ctx, uow, instance)
        failed_element = instance.error_element
        error: EngineError | None = None
        try:
            runner.retry(workflow)
        except TaskNotReady as exc:
            raise Conflict(str(exc)) from exc
        except EngineError as exc:
            error = exc
        save_workflow(ctx, uow, instance, workflow, error=error)
        audit.record(
            uow,
            at=ctx.now(),
            actor=actor.username,
            action="instance.retried",
            instance_id=instance.id,
            element_id=failed_element,
            details={"status": instance.status, "error": error.message if error else None},
        )
        view = instance_view(uow, instance)
        uow.commit()
    return view
