"""Timer start events: the scheduler starts an instance of a process at each due time.

SpiffWorkflow counts a timer start event from the creation of the workflow, which is no use
for a calendar. Instead, the schedule of each timer start event of the latest version of each
process is kept in `scheduled_starts`; when a start is due, one transaction takes the row (FOR
UPDATE SKIP LOCKED on PostgreSQL), starts the instance past its start event, writes one audit
record `instance.started_by_timer` and moves the row to the next occurrence. A scheduler that
dies mid-way rolls back and the start is taken again: each occurrence starts one instance.
"""

from __future__ import annotations

import threading
import weakref
from datetime import datetime, timedelta

from sqlalchemy import Select, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from ...db.models import ProcessModel, ProcessVersion, ScheduledStart
from ...engine import runner
from ...engine.errors import EngineError
from .. import audit
from ..context import ServiceContext
from ..modelling.deployments import specs_of
from ..people.users import SYSTEM
from ..running.instance_store import script_engine
from ..running.instances import prepare_start, start_prepared, store_start

# Versions known to have no timer start event, per database (so specs are read once).
_without_starts: weakref.WeakKeyDictionary[sessionmaker[Session], set[int]] = weakref.WeakKeyDictionary()
_lock = threading.Lock()


def _latest_versions(session: Session) -> list[ProcessVersion]:
    query = select(ProcessVersion).join(
        ProcessModel,
        (ProcessModel.id == ProcessVersion.model_id)
        & (ProcessModel.latest_version == ProcessVersion.version),
    )
    return list(session.scalars(query))


def sync(ctx: ServiceContext) -> int:
    """Schedule the timer start events of newly deployed versions and end those of superseded
    ones; the number of schedules added."""
    with _lock:
        checked = _without_starts.setdefault(ctx.session_factory, set())
    found: dict[int, tuple[str, list[runner.StartTimer]]] = {}
    with ctx.uow() as uow:
        versions = _latest_versions(uow.session)
        latest = {v.id for v in versions}
        known = set(uow.session.scalars(select(ScheduledStart.version_id).distinct()))
        active = set(
            uow.session.scalars(select(ScheduledStart.version_id).where(ScheduledStart.due_at.is_not(None)))
        )
        if not (latest - known - checked) and not (active - latest):
            return 0
        # Timer expressions run in sandbox workers: worked out before the write lock is taken.
        for version in versions:
            if version.id in known or version.id in checked:
                continue
            try:
                engine = script_engine(ctx, uow)
                starts = runner.start_timers(specs_of(ctx, version), engine, version.deployed_at)
            except EngineError:
                starts = []  # an expression that needs instance data: no calendar start
            found[version.id] = (version.model_id, starts)
    added = 0
    with ctx.uow(write=True) as uow:
        uow.session.execute(
            update(ScheduledStart)
            .where(ScheduledStart.due_at.is_not(None), ScheduledStart.version_id.not_in(latest))
            .values(due_at=None)
        )
        for version_id, (model_id, starts) in found.items():
            if not starts:
                checked.add(version_id)
            for start in starts:
                uow.add(
                    ScheduledStart(
                        model_id=model_id,
                        version_id=version_id,
                        element_id=start.element_id,
                        due_at=start.due_at,
                        cycles_left=start.cycles,
                        period_seconds=start.period.total_seconds() if start.period else None,
                    )
                )
                added += 1
        try:
            uow.commit()
        except IntegrityError:  # another scheduler added the same schedules just now
            return 0
    return added


def start_next(ctx: ServiceContext) -> int | None:
    """Start the instance of the oldest due start, in one transaction: its id, 0 when the start
    was dropped (its version superseded), None when no start is due."""
    with ctx.uow() as uow:  # most passes find nothing due: no write lock for them
        first = uow.session.scalars(_oldest_due(ctx.now())).first()
        if first is None:
            return None
        model_id = first.model_id
    # The new workflow runs (diagram code in sandbox workers) before the write lock is taken.
    prepared = prepare_start(ctx, SYSTEM, model_id, {}, then=runner.leave_start_timers)
    with ctx.uow(write=True) as uow:
        now = ctx.now()
        query = _oldest_due(now)
        if uow.is_postgresql:
            query = query.with_for_update(skip_locked=True)
        row = uow.session.scalars(query).first()
        if row is None:
            return None
        due_at = row.due_at
        assert due_at is not None
        _advance(row, due_at)
        model = uow.session.get(ProcessModel, row.model_id)
        version = uow.session.get(ProcessVersion, row.version_id)
        if model is None or version is None or model.latest_version != version.version:
            row.due_at = None
            uow.commit()
            return 0
        if row.model_id != model_id:
            prepared = None  # another start came first: worked out here
        new = start_prepared(ctx, uow, SYSTEM, row.model_id, {}, prepared, then=runner.leave_start_timers)
        instance = store_start(ctx, uow, new).instance
        audit.record(
            uow,
            at=now,
            actor=SYSTEM.username,
            action="instance.started_by_timer",
            instance_id=instance.id,
            element_id=row.element_id,
            details={
                "model": row.model_id,
                "version": version.version,
                "due_at": due_at.isoformat(),
                "fired_at": now.isoformat(),
                "status": instance.status,
            },
        )
        instance_id = instance.id
        uow.commit()
    return instance_id


def _oldest_due(now: datetime) -> Select:
    query = select(ScheduledStart).where(ScheduledStart.due_at < now)
    return query.order_by(ScheduledStart.due_at, ScheduledStart.id).limit(1)


def _advance(row: ScheduledStart, due_at: datetime) -> None:
    if row.cycles_left is None or row.cycles_left == 1 or not row.period_seconds:
        row.due_at, row.cycles_left = None, 0
        return
    if row.cycles_left > 0:
        row.cycles_left -= 1
    row.due_at = due_at + timedelta(seconds=row.period_seconds)


def run_due(ctx: ServiceContext) -> int:
    """Sync the schedules, then start every instance that is due; how many were started."""
    sync(ctx)
    started = 0
    while (instance_id := start_next(ctx)) is not None:
        started += 1 if instance_id else 0
    return started


def next_due(ctx: ServiceContext) -> datetime | None:
    with ctx.uow() as uow:
        return uow.session.scalar(select(func.min(ScheduledStart.due_at)))
