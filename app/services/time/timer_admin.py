"""The administrators' view of timers: list them, fire one now, move one.

Firing now and moving change an instance's workflow under its lock, as the scheduler does
(`timers`, `timer_firing`); the step that runs diagram code is worked out before that lock.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from SpiffWorkflow.bpmn import BpmnWorkflow
from sqlalchemy import select

from ...db.models import ProcessInstance, WaitingTimer
from ...engine import runner
from ...engine.errors import TaskNotReady
from ...engine.views import TimerView
from ...errors import Conflict, InvalidInput, NotFound
from .. import audit
from ..context import ServiceContext
from ..people.users import Actor
from ..running.instance_store import load_workflow, lock_row_of_instance, save_workflow
from ..running.steps import store_step, work_out_ahead
from ..uow import UnitOfWork
from .timer_firing import record_fired

# SpiffWorkflow fires a timer only when due < now: "fire now" moves it just before now.
_EPSILON = timedelta(microseconds=1)


def timer_view(row: WaitingTimer, model_id: str) -> dict[str, Any]:
    return {
        "id": row.id,
        "instance_id": row.instance_id,
        "process_model": model_id,
        "task_id": row.task_id,
        "element_id": row.element_id,
        "due_at": row.due_at.isoformat(),
        "claimed_by": row.claimed_by,
        "claim_expires_at": row.claim_expires_at.isoformat() if row.claim_expires_at else None,
    }


def list_timers(
    ctx: ServiceContext,
    actor: Actor,
    *,
    model_id: str | None = None,
    element_id: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """Upcoming timers, earliest first; of one process model (the appeals' deadlines, the
    rotation's reminders) or one timer element when asked."""
    actor.require_admin()
    query = (
        select(WaitingTimer, ProcessInstance.model_id)
        .join(ProcessInstance, ProcessInstance.id == WaitingTimer.instance_id)
        .order_by(WaitingTimer.due_at, WaitingTimer.id)
        .limit(max(1, min(limit, 1000)))
        .offset(max(0, offset))
    )
    if model_id:
        query = query.where(ProcessInstance.model_id == model_id)
    if element_id:
        query = query.where(WaitingTimer.element_id == element_id)
    with ctx.uow() as uow:
        return [timer_view(row, model_id) for row, model_id in uow.session.execute(query)]


def _locked_timer(uow: UnitOfWork, timer_id: int) -> tuple[ProcessInstance, WaitingTimer]:
    locked = lock_row_of_instance(uow, WaitingTimer, timer_id)
    if locked is None:
        raise NotFound(f"timer {timer_id} not found (it may just have fired)")
    instance, row = locked
    if instance.status != "running":
        raise Conflict(f"instance {instance.id} is {instance.status}")
    return instance, row


def fire_timer_now(ctx: ServiceContext, actor: Actor, timer_id: int) -> dict[str, Any]:
    """Fire a timer now, whatever its due time (and whatever else of its instance is due)."""
    actor.require_admin()
    with ctx.uow() as uow:
        timer = uow.session.get(WaitingTimer, timer_id)
        task_id, instance_id = (timer.task_id, timer.instance_id) if timer is not None else (None, None)

    def fire_now(workflow: BpmnWorkflow) -> list[TimerView]:
        runner.move_timer(workflow, task_id or "", ctx.now() - _EPSILON)
        return runner.fire_timers(workflow)

    running = lambda instance: instance.status == "running"  # noqa: E731
    ahead = work_out_ahead(ctx, instance_id, fire_now, running) if instance_id is not None else None
    with ctx.uow(write=True) as uow:
        instance, row = _locked_timer(uow, timer_id)
        original = TimerView(row.task_id, row.element_id, row.due_at)
        if row.task_id != task_id:
            ahead = None  # another timer row than the one read: work it out here
            task_id = row.task_id
        try:
            done = store_step(ctx, uow, instance, fire_now, ahead)
        except TaskNotReady as exc:
            raise Conflict(str(exc)) from exc
        error = done.error
        fired = [original] if error is not None else done.result
        # Report the fired timer with the due time it had, not the one it was moved to.
        fired = [original if t.task_id == original.task_id else t for t in fired]
        details: dict[str, Any] = {"manual": True}
        if error is not None:
            details["error"] = error.message
        record_fired(ctx, uow, instance.id, fired, actor=actor.username, details=details)
        result = {
            "instance_id": instance.id,
            "status": instance.status,
            "fired": [
                {"task_id": t.task_id, "element_id": t.element_id, "due_at": t.due_at.isoformat()}
                for t in fired
            ],
        }
        uow.commit()
    return result


def parse_due_at(value: Any) -> datetime:
    try:
        due_at = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        due_at = None
    if due_at is None or due_at.tzinfo is None:
        raise InvalidInput(
            "due_at must be an ISO 8601 date-time with a time zone offset",
            [{"field": "due_at", "message": "expected e.g. 2026-03-02T10:00:00+05:00"}],
        )
    return due_at.astimezone(UTC)


def move_timer(ctx: ServiceContext, actor: Actor, timer_id: int, due_at: datetime | str) -> dict[str, Any]:
    """Give a waiting timer a new due time (in the workflow itself, so it stays moved)."""
    actor.require_admin()
    due_at = due_at if isinstance(due_at, datetime) else parse_due_at(due_at)
    with ctx.uow(write=True) as uow:
        instance, row = _locked_timer(uow, timer_id)
        workflow = load_workflow(ctx, uow, instance)
        try:
            moved = runner.move_timer(workflow, row.task_id, due_at)
        except TaskNotReady as exc:
            raise Conflict(str(exc)) from exc
        previous = row.due_at
        # Keep the row (and its id): the re-sync then finds it already in step.
        row.due_at = moved.due_at
        row.claimed_by = None
        row.claim_expires_at = None
        save_workflow(ctx, uow, instance, workflow)
        audit.record(
            uow,
            at=ctx.now(),
            actor=actor.username,
            action="timer.moved",
            instance_id=instance.id,
            task_id=row.task_id,
            element_id=row.element_id,
            details={"from": previous.isoformat(), "to": moved.due_at.isoformat()},
        )
        view = timer_view(row, instance.model_id)
        uow.commit()
    return view
