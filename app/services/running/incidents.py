"""Incidents: instances whose step failed (status `error`), for administrators to see, correct
and retry or cancel, one at a time or many at once.

Many at once means each in its own transaction, as if sent one by one: one instance that fails
again, or changed meanwhile, does not hold back the others, and the answer says what became of
each. Correcting means setting variables where the instance goes on from, audited with the values
before and after.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import func, select

from ...db.models import AuditRecord, ProcessInstance
from ...engine import runner
from ...engine.errors import EngineError, TaskNotReady
from ...errors import AppError, Conflict, InvalidInput
from .. import audit
from ..context import ServiceContext
from ..people.users import Actor
from .instance_store import load_workflow, lock_instance, save_workflow
from .instances import cancel_instance, instance_view, retry_instance
from .states import SUSPENDED

EDITABLE = ("error", SUSPENDED)  # a running instance may move under the edit: suspend it first


def list_incidents(
    ctx: ServiceContext, actor: Actor, *, model_id: str | None = None, limit: int = 100, offset: int = 0
) -> list[dict[str, Any]]:
    """Failed instances, the most recent failure first, with how often each was retried."""
    actor.require_admin()
    query = select(ProcessInstance).where(ProcessInstance.status == "error")
    if model_id:
        query = query.where(ProcessInstance.model_id == model_id)
    query = query.order_by(ProcessInstance.updated_at.desc(), ProcessInstance.id.desc())
    with ctx.uow() as uow:
        rows = list(uow.session.scalars(query.limit(limit).offset(offset)))
        of_these = AuditRecord.instance_id.in_([r.id for r in rows])
        counted = uow.session.execute(
            select(AuditRecord.instance_id, func.count())
            .where(of_these, AuditRecord.action == "instance.retried")
            .group_by(AuditRecord.instance_id)
        )
        retries = {instance_id: count for instance_id, count in counted}
        return [
            {
                "instance_id": r.id,
                "process_model": r.model_id,
                "version": r.version.version,
                "element_id": r.error_element,
                "message": r.error_message,
                "failed_at": r.updated_at.isoformat(),
                "retries": retries.get(r.id, 0),
            }
            for r in rows
        ]


def retry_many(ctx: ServiceContext, actor: Actor, instance_ids: list[int]) -> list[dict[str, Any]]:
    actor.require_admin()
    return [_one(instance_id, lambda i: retry_instance(ctx, actor, i)) for instance_id in instance_ids]


def cancel_many(ctx: ServiceContext, actor: Actor, instance_ids: list[int]) -> list[dict[str, Any]]:
    actor.require_admin()
    return [_one(instance_id, lambda i: cancel_instance(ctx, actor, i)) for instance_id in instance_ids]


def _one(instance_id: int, act: Callable[[int], dict[str, Any]]) -> dict[str, Any]:
    try:
        view = act(instance_id)
    except AppError as exc:
        return {"instance_id": instance_id, "outcome": "refused", "status": None, "message": exc.message}
    failed = view["status"] == "error"
    return {
        "instance_id": instance_id,
        "outcome": "failed again" if failed else "done",
        "status": view["status"],
        "message": (view.get("error") or {}).get("message") if failed else None,
    }


def edit_data(
    ctx: ServiceContext, actor: Actor, instance_id: int, changes: Mapping[str, Any]
) -> dict[str, Any]:
    """Set variables of a failed or suspended instance before it goes on."""
    actor.require_admin()
    if not changes or not all(isinstance(k, str) and k.isidentifier() for k in changes):
        problem = {"field": "data", "message": "an object of variable names to values"}
        raise InvalidInput("name the variables to set", [problem])
    with ctx.uow(write=True) as uow:
        instance = lock_instance(uow, instance_id)
        if instance.status not in EDITABLE:
            raise Conflict(
                f"instance {instance_id} is {instance.status}: only a failed or suspended instance's "
                "data may be changed"
            )
        workflow = load_workflow(ctx, uow, instance)
        try:
            before = runner.set_data(workflow, changes)
        except TaskNotReady as exc:
            raise Conflict(str(exc)) from exc
        failure = None
        if instance.status == "error":  # still failed, as it was, until it is retried
            failure = EngineError(instance.error_message or "", instance.error_element)
        save_workflow(ctx, uow, instance, workflow, error=failure)
        audit.record(
            uow,
            at=ctx.now(),
            actor=actor.username,
            action="instance.data_edited",
            instance_id=instance.id,
            details={"changes": {k: {"old": before[k], "new": v} for k, v in changes.items()}},
        )
        view = instance_view(uow, instance)
        uow.commit()
    return view
