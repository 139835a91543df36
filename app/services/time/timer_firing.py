"""Firing one claimed timer: worked out before the write lock, stored under it.

The timer's engine step runs diagram code in sandbox workers, so it runs before the writing
transaction, from the instance as it was read; under the instance's lock its row version tells
whether that result still holds (else the step runs again there, as completions do).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from SpiffWorkflow.bpmn import BpmnWorkflow
from sqlalchemy import bindparam, delete, select

from ...db.models import ProcessInstance, WaitingTimer
from ...engine import runner
from ...engine.errors import EngineError
from ...engine.views import TimerView
from .. import audit
from ..context import ServiceContext
from ..people.users import SYSTEM
from ..running.instance_store import Captured, adopt_instance, capture, load_workflow, save_workflow
from ..uow import UnitOfWork


@dataclass(frozen=True)
class Claim:
    id: int
    instance_id: int
    task_id: str
    element_id: str
    due_at: datetime


def record_fired(
    ctx: ServiceContext,
    uow: UnitOfWork,
    instance_id: int,
    fired: Iterable[TimerView],
    *,
    actor: str,
    details: dict[str, Any],
) -> None:
    fired_at = ctx.now()
    for timer in fired:
        audit.record(
            uow,
            at=fired_at,
            actor=actor,
            action="timer.fired",
            instance_id=instance_id,
            task_id=timer.task_id,
            element_id=timer.element_id,
            details={"due_at": timer.due_at.isoformat(), "fired_at": fired_at.isoformat(), **details},
        )


class _Firing(NamedTuple):
    """What firing the due timers of an instance, as a row version held it, came to."""

    instance: ProcessInstance
    workflow: BpmnWorkflow
    stored: list[TimerView]  # what its timer rows hold: saved together
    fired: list[TimerView]
    error: EngineError | None
    captured: Captured


def _work_out(ctx: ServiceContext, uow: UnitOfWork, instance: ProcessInstance, claimed: TimerView) -> _Firing:
    """Fire what is due in the instance's workflow (nothing is written)."""
    workflow = load_workflow(ctx, uow, instance)
    stored = runner.waiting_timers(workflow)
    try:
        fired, error = runner.fire_timers(workflow), None
    except EngineError as exc:
        fired, error = [claimed], exc
    return _Firing(instance, workflow, stored, fired, error, capture(ctx, instance, workflow, error))


class _Locked(NamedTuple):
    instance: ProcessInstance
    claimed_by: str | None
    timer: TimerView


_INSTANCES = ProcessInstance.__table__
_TIMERS = WaitingTimer.__table__
# Built once: its compiled form is then reused from SQLAlchemy's statement cache. Core, not an
# ORM query: the instance row is handed to the session by adopt_instance, at a fraction of the
# cost of the ORM's loading.
_READ_CLAIMED = (
    select(
        _INSTANCES,
        _TIMERS.c.claimed_by.label("timer_claimed_by"),
        _TIMERS.c.task_id.label("timer_task_id"),
        _TIMERS.c.element_id.label("timer_element_id"),
        _TIMERS.c.due_at.label("timer_due_at"),
    )
    .join(_TIMERS, _TIMERS.c.instance_id == _INSTANCES.c.id)
    .where(_INSTANCES.c.id == bindparam("instance_id"), _TIMERS.c.id == bindparam("timer_id"))
)
_LOCK_CLAIMED = _READ_CLAIMED.with_for_update(of=[_INSTANCES, _TIMERS])


def _read_claimed(uow: UnitOfWork, claim: Claim, statement: Any = _LOCK_CLAIMED) -> _Locked | None:
    """The claim's instance and timer row, both locked and read as they are once locked, in one
    statement (or only read, with `_READ_CLAIMED`); None when either is gone.

    The instance is locked first (FOR UPDATE OF lists it first, and PostgreSQL locks in that
    order), as every other writer of an instance does: no deadlock. Locking the timer row too is
    what makes the re-check sound in one statement: a row another transaction deleted (fired)
    while this one waited is then skipped, and a changed one is re-read, instead of being
    returned as the statement's snapshot saw it. SQLite has no FOR UPDATE: its write lock is
    already held by the writing unit of work."""
    params = {"instance_id": claim.instance_id, "timer_id": claim.id}
    found = uow.session.connection().execute(statement, params).first()
    if found is None:
        return None
    row = found._mapping
    timer = TimerView(row["timer_task_id"], row["timer_element_id"], row["timer_due_at"])
    return _Locked(adopt_instance(uow, row), row["timer_claimed_by"], timer)


def _fire_ahead(ctx: ServiceContext, owner: str, claim: Claim) -> _Firing | None:
    """The firing worked out before the write lock, from the instance as read; None when the
    claim is no longer this scheduler's or the instance no longer runs."""
    with ctx.uow() as uow:
        found = _read_claimed(uow, claim, _READ_CLAIMED)
        if found is None or found.claimed_by != owner or found.instance.status != "running":
            return None
        return _work_out(ctx, uow, found.instance, found.timer)


def fire_claimed(
    ctx: ServiceContext, owner: str, claim: Claim, turn: Callable[[], None] = lambda: None
) -> int:
    """Fire one claimed timer in its own transaction; the number of timers that fired. `turn`
    returns when the firing may write its outcome (concurrent firings keep due order)."""
    ahead = _fire_ahead(ctx, owner, claim)
    with ctx.uow(write=True) as uow:
        locked = _read_claimed(uow, claim)
        # Whoever fired it first deleted or replaced the row; a lease that ran out lets another
        # scheduler claim it again.
        if locked is None or locked.claimed_by != owner:
            return 0
        instance = locked.instance
        if instance.status != "running":
            uow.session.execute(delete(WaitingTimer).where(WaitingTimer.id == claim.id))
            uow.commit()
            return 0
        done = ahead
        if done is None or done.instance.row_version != instance.row_version:
            done = _work_out(ctx, uow, instance, locked.timer)  # changed meanwhile: again, here
        if not done.fired:
            # The engine did not see it due (its clock behind the one that claimed it): keep the
            # claim, so that it is tried again when the lease expires rather than at once in a loop.
            return 0
        save_workflow(
            ctx, uow, instance, done.workflow, error=done.error, timers=done.stored, captured=done.captured
        )
        details: dict[str, Any] = {"scheduler": owner}
        if done.error is not None:
            details["error"] = done.error.message
        turn()  # the audit records and the commit, in due order among concurrent firings
        record_fired(ctx, uow, instance.id, done.fired, actor=SYSTEM.username, details=details)
        uow.commit()
    return len(done.fired)
