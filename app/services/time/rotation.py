"""Rotation terms of the Deputy Chairmen from ethno-cultural associations (Regulations para 10).

One row (`rotation_terms`) holds the current deputies and their term. The scheduler starts
`deputy_rotation` `lead_days` before `term_end` (at midnight in the application's time zone), once
per term: the row is taken under a lock (FOR UPDATE SKIP LOCKED on PostgreSQL, SQLite's write
lock otherwise) and keeps the started instance's id. When a `deputy_rotation` instance completes
with an `appointment` and `next_term_end`, the next pass records the new term, which schedules the
rotation after it. Staff change the term (its end, the length the President decided, the lead
time); each change is one transaction with one audit record, and reschedules the next start.
"""

from __future__ import annotations

import calendar
import logging
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from ...db.models import DEFAULT_LEAD_DAYS, ProcessInstance, RotationTerm
from ...engine.errors import EngineError
from ...errors import AppError, Forbidden, InvalidInput
from .. import audit
from ..context import ServiceContext
from ..people.users import SYSTEM, Actor
from ..running.instances import prepare_start, start_prepared, store_start
from ..uow import UnitOfWork

log = logging.getLogger(__name__)

MODEL_ID = "deputy_rotation"
VIEW_GROUPS = frozenset({"admins", "secretariat", "secretariat_head"})
EDIT_GROUPS = frozenset({"admins", "secretariat_head"})
MAX_DEPUTIES = 2  # the other Deputy Chairman is not rotated (rotation_start.schema.json)


def may_view(actor: Actor) -> bool:
    return bool(actor.groups & VIEW_GROUPS)


def may_edit(actor: Actor) -> bool:
    return bool(actor.groups & EDIT_GROUPS)


def add_months(day: date, months: int) -> date:
    """The same day `months` later (the last day of a shorter month)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return day.replace(year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1]))


def term_end_of(term_start: date, months: int) -> date:
    """A term ends the day before the same date `months` later (bpmn/README.md)."""
    return add_months(term_start, months) - timedelta(days=1)


def start_due(ctx: ServiceContext, term_end: date, lead_days: int) -> datetime:
    zone = ZoneInfo(ctx.settings.timezone)
    return datetime.combine(term_end - timedelta(days=lead_days), time(0), zone).astimezone(UTC)


# --- reading ------------------------------------------------------------------------------------


def _row(uow: UnitOfWork, *, lock: bool = False) -> RotationTerm | None:
    query = select(RotationTerm).order_by(RotationTerm.id).limit(1)
    if lock:
        query = query.with_for_update()
    return uow.session.scalars(query).first()


def _view(uow: UnitOfWork, row: RotationTerm | None) -> dict[str, Any]:
    if row is None:
        return {
            "deputies": [],
            "term_start": None,
            "term_end": None,
            "term_months": 12,
            "lead_days": DEFAULT_LEAD_DAYS,
            "next_rotation_start": None,
            "rotation_instance": None,
            "updated_by": None,
            "updated_at": None,
        }
    running = None
    if row.next_rotation_instance_id is not None:
        instance = uow.session.get(ProcessInstance, row.next_rotation_instance_id)
        if instance is not None:
            running = {"id": instance.id, "status": instance.status}
    return {
        "deputies": list(row.deputies or []),
        "term_start": row.term_start.isoformat() if row.term_start else None,
        "term_end": row.term_end.isoformat(),
        "term_months": row.term_months,
        "lead_days": row.lead_days,
        "next_rotation_start": row.next_start_at.isoformat() if row.next_start_at else None,
        "rotation_instance": running,
        "updated_by": row.updated_by,
        "updated_at": row.updated_at.isoformat(),
    }


def get_rotation(ctx: ServiceContext, actor: Actor) -> dict[str, Any]:
    if not may_view(actor):
        raise Forbidden("only the Secretariat and administrators may see the rotation terms")
    with ctx.uow() as uow:
        return _view(uow, _row(uow))


# --- changing -----------------------------------------------------------------------------------


def _invalid(field: str, message: str) -> InvalidInput:
    return InvalidInput(f"{field}: {message}", [{"field": field, "message": message}])


def _date(value: Any, field: str) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(value)
    except (TypeError, ValueError) as exc:
        raise _invalid(field, "a date (YYYY-MM-DD)") from exc


def _int(value: Any, field: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise _invalid(field, f"a whole number from {low} to {high}")
    return value


def _deputies(value: Any) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(d, str) and d.strip() for d in value):
        raise _invalid("deputies", "a list of names")
    names = [d.strip() for d in value]
    if len(names) > MAX_DEPUTIES or any(len(d) > 200 for d in names):
        raise _invalid("deputies", f"at most {MAX_DEPUTIES} names of at most 200 characters")
    return names


def _parsed(changes: dict[str, Any]) -> dict[str, Any]:
    parsed: dict[str, Any] = {}
    if changes.get("term_end") is not None:
        parsed["term_end"] = _date(changes["term_end"], "term_end")
    if changes.get("term_start") is not None:
        parsed["term_start"] = _date(changes["term_start"], "term_start")
    if changes.get("term_months") is not None:
        parsed["term_months"] = _int(changes["term_months"], "term_months", 1, 60)
    if changes.get("lead_days") is not None:
        parsed["lead_days"] = _int(changes["lead_days"], "lead_days", 0, 366)
    if changes.get("deputies") is not None:
        parsed["deputies"] = _deputies(changes["deputies"])
    return parsed


def _snapshot(row: RotationTerm) -> dict[str, Any]:
    return {
        "deputies": list(row.deputies or []),
        "term_start": row.term_start.isoformat() if row.term_start else None,
        "term_end": row.term_end.isoformat(),
        "term_months": row.term_months,
        "lead_days": row.lead_days,
        "next_start_at": row.next_start_at.isoformat() if row.next_start_at else None,
    }


def _reschedule(ctx: ServiceContext, uow: UnitOfWork, row: RotationTerm, term_changed: bool) -> None:
    """Plan the next start; a new term end frees a finished rotation so the new term gets its own
    (a rotation still running keeps the term: it is not started twice)."""
    if term_changed and row.next_rotation_instance_id is not None:
        instance = uow.session.get(ProcessInstance, row.next_rotation_instance_id)
        if instance is None or instance.status != "running":
            row.next_rotation_instance_id = None
    row.next_start_at = (
        start_due(ctx, row.term_end, row.lead_days) if row.next_rotation_instance_id is None else None
    )


def update_rotation(ctx: ServiceContext, actor: Actor, changes: dict[str, Any]) -> dict[str, Any]:
    """Change the term: any of term_end, term_start, term_months, lead_days, deputies. A new
    term_months without a term_end moves the end of a term whose start is known."""
    if not may_edit(actor):
        raise Forbidden("only the Head of the Secretariat and administrators may change the rotation")
    values = _parsed(changes)
    with ctx.uow(write=True) as uow:
        row = _row(uow, lock=True)
        if row is None:
            if "term_end" not in values:
                raise _invalid("term_end", "required for the first term")
            row = uow.add(RotationTerm(term_end=values["term_end"], deputies=[], term_months=12))
            row.lead_days = DEFAULT_LEAD_DAYS
            previous: dict[str, Any] | None = None
        else:
            previous = _snapshot(row)
        old_end = None if previous is None else row.term_end
        for name, value in values.items():
            setattr(row, name, value)
        if "term_end" not in values and "term_months" in values and row.term_start is not None:
            row.term_end = term_end_of(row.term_start, row.term_months)
        if row.term_start is not None and row.term_start > row.term_end:
            raise _invalid("term_end", "the term must end after it starts")
        _reschedule(ctx, uow, row, term_changed=row.term_end != old_end)
        row.updated_by, row.updated_at = actor.username, ctx.now()
        audit.record(
            uow,
            at=ctx.now(),
            actor=actor.username,
            action="rotation.updated",
            details={"previous": previous, "current": _snapshot(row)},
        )
        uow.session.flush()
        view = _view(uow, row)
        uow.commit()
    return view


# --- the scheduler's use cases ------------------------------------------------------------------


def record_completed(ctx: ServiceContext) -> int | None:
    """Record the term appointed by the latest completed rotation not yet recorded; its id."""
    with ctx.uow() as uow:
        row = _row(uow)
        after = (row.recorded_instance_id or 0) if row is not None else 0
        if _latest_completed(uow, after) is None:
            return None
    with ctx.uow(write=True) as uow:
        row = _row(uow, lock=True)
        after = (row.recorded_instance_id or 0) if row is not None else 0
        instance = _latest_completed(uow, after)
        if instance is None:
            return None
        term = _appointed_term(instance.data or {})
        if term is None:  # no appointment in its data: nothing to record, look no further
            if row is not None:
                row.recorded_instance_id = instance.id
                uow.commit()
            return None
        previous = _snapshot(row) if row is not None else None
        if row is None:
            row = uow.add(RotationTerm(lead_days=DEFAULT_LEAD_DAYS, **term))
        else:
            for name, value in term.items():
                setattr(row, name, value)
        row.recorded_instance_id = instance.id
        row.next_rotation_instance_id = None
        row.next_start_at = start_due(ctx, row.term_end, row.lead_days)
        row.updated_by, row.updated_at = SYSTEM.username, ctx.now()
        audit.record(
            uow,
            at=ctx.now(),
            actor=SYSTEM.username,
            action="rotation.term_recorded",
            instance_id=instance.id,
            details={"previous": previous, "current": _snapshot(row)},
        )
        uow.commit()
    return instance.id


def _latest_completed(uow: UnitOfWork, after: int) -> ProcessInstance | None:
    query = (
        select(ProcessInstance)
        .where(
            ProcessInstance.model_id == MODEL_ID,
            ProcessInstance.status == "complete",
            ProcessInstance.id > after,
        )
        .order_by(ProcessInstance.id.desc())
        .limit(1)
    )
    return uow.session.scalars(query).first()


def _appointed_term(data: dict[str, Any]) -> dict[str, Any] | None:
    appointment = data.get("appointment")
    if not isinstance(appointment, dict) or not data.get("next_term_end"):
        return None
    try:
        term_end = date.fromisoformat(str(data["next_term_end"]))
        start = appointment.get("term_start")
        term_start = date.fromisoformat(str(start)) if start else None
    except ValueError:
        log.warning("rotation: unreadable dates in %r", appointment)
        return None
    months = appointment.get("term_months")
    deputies = appointment.get("deputies") or []
    return {
        "deputies": [str(d) for d in deputies] if isinstance(deputies, list) else [str(deputies)],
        "term_start": term_start,
        "term_end": term_end,
        "term_months": months if isinstance(months, int) and not isinstance(months, bool) else 12,
    }


def start_due_rotation(ctx: ServiceContext) -> int | None:
    """Start `deputy_rotation` when its start is due, once per term; the instance id."""
    with ctx.uow() as uow:  # most passes find nothing due: no write lock for them
        row = _row(uow)
        if row is None or row.next_start_at is None or row.next_start_at > ctx.now():
            return None
        seen = _start_data(row)
    # The new workflow runs (diagram code in sandbox workers) before the write lock is taken.
    prepared = prepare_start(ctx, SYSTEM, MODEL_ID, seen)
    with ctx.uow(write=True) as uow:
        query = select(RotationTerm).order_by(RotationTerm.id).limit(1)
        if uow.is_postgresql:
            query = query.with_for_update(skip_locked=True)
        row = uow.session.scalars(query).first()
        now = ctx.now()
        if row is None or row.next_start_at is None or row.next_start_at > now:
            return None  # another scheduler took it
        due_at = row.next_start_at
        data = _start_data(row)
        try:
            new = start_prepared(ctx, uow, SYSTEM, MODEL_ID, data, prepared if data == seen else None)
            instance = store_start(ctx, uow, new).instance
        except (AppError, EngineError) as exc:
            log.warning("rotation: could not start %s: %s", MODEL_ID, exc)
            return None  # not deployed yet, or a start form refusing the data: try next pass
        row.next_rotation_instance_id = instance.id
        row.next_start_at = None
        audit.record(
            uow,
            at=now,
            actor=SYSTEM.username,
            action="rotation.started",
            instance_id=instance.id,
            details={"due_at": due_at.isoformat(), "fired_at": now.isoformat(), "data": data},
        )
        uow.commit()
        return instance.id


def _start_data(row: RotationTerm) -> dict[str, Any]:
    return {
        "term_end": row.term_end.isoformat(),
        "term_months": row.term_months,
        "current_deputies": list(row.deputies or []),
    }


def run_due(ctx: ServiceContext) -> int:
    """Record finished rotations, then start the next one when due; instances started."""
    record_completed(ctx)
    return 1 if start_due_rotation(ctx) else 0


def next_due(ctx: ServiceContext) -> datetime | None:
    with ctx.uow() as uow:
        row = _row(uow)
        return row.next_start_at if row is not None else None
