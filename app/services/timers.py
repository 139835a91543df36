"""Timers: claim the due ones, fire each in its own transaction, list, fire now, move.

Work is found from the stored due times (`waiting_timers`), never by loading instances. A
scheduler claims a batch of due timers with a lease (`claimed_by`, `claim_expires_at`; on
PostgreSQL with SELECT ... FOR UPDATE SKIP LOCKED, so several schedulers take disjoint
batches), commits, then fires each claimed timer under its instance's row lock after checking
that the row still exists and is still claimed by it. Firing saves the instance, which deletes
or replaces the fired row, so a timer fires once even when a lease ran out and another
scheduler claimed it again. A scheduler killed mid-batch loses nothing: its leases expire.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select

from ..db.models import ProcessInstance, WaitingTimer
from ..engine import runner
from ..engine.errors import EngineError, TaskNotReady
from ..engine.views import TimerView
from ..errors import Conflict, InvalidInput, NotFound
from . import audit
from .context import ServiceContext
from .instance_store import load_workflow, lock_instance, lock_row_of_instance, save_workflow
from .uow import UnitOfWork
from .users import SYSTEM, Actor

log = logging.getLogger(__name__)

DEFAULT_LEASE = timedelta(seconds=60)
DEFAULT_BATCH = 100
# SpiffWorkflow fires a timer only when due < now: "fire now" moves it just before now.
_EPSILON = timedelta(microseconds=1)


@dataclass(frozen=True)
class Claim:
    id: int
    instance_id: int
    task_id: str
    element_id: str
    due_at: datetime


# --- claiming and firing (the scheduler's use cases) ------------------------------------------


def _claimable(now: datetime):
    return (WaitingTimer.due_at < now) & or_(
        WaitingTimer.claimed_by.is_(None), WaitingTimer.claim_expires_at < now
    )


def claim_due(
    ctx: ServiceContext, owner: str, *, lease: timedelta = DEFAULT_LEASE, limit: int = DEFAULT_BATCH
) -> list[Claim]:
    """Claim up to `limit` due timers, oldest first, for `owner` until now + `lease`."""
    with ctx.uow() as uow:  # look first: most passes find nothing, and need no write lock
        if uow.session.scalar(select(WaitingTimer.id).where(_claimable(ctx.now())).limit(1)) is None:
            return []
    with ctx.uow(write=True) as uow:
        now = ctx.now()
        query = (
            select(WaitingTimer)
            .where(_claimable(now))
            .order_by(WaitingTimer.due_at, WaitingTimer.id)
            .limit(limit)
        )
        if uow.is_postgresql:
            query = query.with_for_update(skip_locked=True)
        rows = list(uow.session.scalars(query))
        for row in rows:
            row.claimed_by = owner
            row.claim_expires_at = now + lease
        claims = [Claim(r.id, r.instance_id, r.task_id, r.element_id, r.due_at) for r in rows]
        uow.commit()
    return claims


def _record_fired(
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


def _fire_locked(
    ctx: ServiceContext, uow: UnitOfWork, instance: ProcessInstance, row: WaitingTimer
) -> tuple[list[TimerView], EngineError | None]:
    """Fire what is due in a locked instance and save it; the timers that fired."""
    workflow = load_workflow(ctx, uow, instance)
    claimed = TimerView(row.task_id, row.element_id, row.due_at)
    try:
        fired = runner.fire_timers(workflow)
    except EngineError as exc:
        save_workflow(ctx, uow, instance, workflow, error=exc)
        return [claimed], exc
    save_workflow(ctx, uow, instance, workflow)
    return fired, None


def fire_claimed(ctx: ServiceContext, owner: str, claim: Claim) -> int:
    """Fire one claimed timer in its own transaction; the number of timers that fired."""
    with ctx.uow(write=True) as uow:
        try:
            instance = lock_instance(uow, claim.instance_id)
        except NotFound:
            return 0
        # Re-check under the instance lock: whoever fired it first deleted or replaced the row.
        row = uow.session.scalars(
            select(WaitingTimer).where(WaitingTimer.id == claim.id).execution_options(populate_existing=True)
        ).first()
        if row is None or row.claimed_by != owner:
            return 0
        if instance.status != "running":
            uow.session.delete(row)
            uow.commit()
            return 0
        fired, error = _fire_locked(ctx, uow, instance, row)
        if not fired:
            # The engine did not see it due (its clock behind the one that claimed it): keep the
            # claim, so that it is tried again when the lease expires rather than at once in a loop.
            return 0
        details: dict[str, Any] = {"scheduler": owner}
        if error is not None:
            details["error"] = error.message
        _record_fired(ctx, uow, instance.id, fired, actor=SYSTEM.username, details=details)
        uow.commit()
    return len(fired)


def run_due(
    ctx: ServiceContext,
    owner: str,
    *,
    lease: timedelta = DEFAULT_LEASE,
    batch_size: int = DEFAULT_BATCH,
    should_stop: Callable[[], bool] = lambda: False,
) -> int:
    """Claim and fire batches until nothing is due; the number of timers fired."""
    total = 0
    while not should_stop():
        claims = claim_due(ctx, owner, lease=lease, limit=batch_size)
        if not claims:
            return total
        for claim in claims:
            if should_stop():
                break
            try:
                total += fire_claimed(ctx, owner, claim)
            except Exception:  # one broken instance must not stop the others
                log.exception("firing timer %s of instance %s failed", claim.id, claim.instance_id)
    return total


def next_wakeup(ctx: ServiceContext) -> datetime | None:
    """When there may next be work: the earliest unclaimed due time or lease expiry."""
    with ctx.uow() as uow:
        due = uow.session.scalar(
            select(func.min(WaitingTimer.due_at)).where(WaitingTimer.claimed_by.is_(None))
        )
        expiry = uow.session.scalar(
            select(func.min(func.coalesce(WaitingTimer.claim_expires_at, WaitingTimer.due_at))).where(
                WaitingTimer.claimed_by.is_not(None)
            )
        )
    candidates = [_utc(d) for d in (due, expiry) if d is not None]
    return min(candidates) if candidates else None


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


# --- the admin's view: list, fire now, move ---------------------------------------------------


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
    with ctx.uow(write=True) as uow:
        instance, row = _locked_timer(uow, timer_id)
        workflow = load_workflow(ctx, uow, instance)
        original = TimerView(row.task_id, row.element_id, row.due_at)
        try:
            runner.move_timer(workflow, row.task_id, ctx.now() - _EPSILON)
        except TaskNotReady as exc:
            raise Conflict(str(exc)) from exc
        error: EngineError | None = None
        try:
            fired = runner.fire_timers(workflow)
        except EngineError as exc:
            error, fired = exc, [original]
        save_workflow(ctx, uow, instance, workflow, error=error)
        # Report the fired timer with the due time it had, not the one it was moved to.
        fired = [original if t.task_id == original.task_id else t for t in fired]
        details: dict[str, Any] = {"manual": True}
        if error is not None:
            details["error"] = error.message
        _record_fired(ctx, uow, instance.id, fired, actor=actor.username, details=details)
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
