"""Working-day transfers edited by administrators, and the calendar built from them.

The government decrees next year's transfers each autumn, often before the `holidays` package
knows them. Administrators record such a day as a holiday or a working day; deadlines computed
by the diagrams (`add_working_days`, appeal terms, rotation reminders) then follow it. Each
change is audited and replaces the context's calendar; a scheduler pass and `serve` reload it
from the database (`refresh_calendar`).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select

from ...db.models import TRANSFER_KINDS, CalendarTransfer
from ...engine.calendar import WorkingCalendar
from ...errors import InvalidInput, NotFound
from .. import audit
from ..context import ServiceContext
from ..people.users import Actor


def _transfer_view(row: CalendarTransfer) -> dict[str, Any]:
    return {
        "day": row.day.isoformat(),
        "kind": row.kind,
        "note": row.note,
        "created_by": row.created_by,
        "created_at": row.created_at.isoformat(),
    }


def _parse_day(value: date | str) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(value)
    except (TypeError, ValueError) as exc:
        raise InvalidInput(
            "day must be a date (YYYY-MM-DD)", [{"field": "day", "message": "YYYY-MM-DD"}]
        ) from exc


def list_transfers(ctx: ServiceContext, actor: Actor) -> list[dict[str, Any]]:
    actor.require_admin()
    with ctx.uow() as uow:
        rows = uow.session.scalars(select(CalendarTransfer).order_by(CalendarTransfer.day))
        return [_transfer_view(r) for r in rows]


def _calendar_from(rows: list[CalendarTransfer]) -> WorkingCalendar:
    return WorkingCalendar(
        extra_holidays=[r.day for r in rows if r.kind == "holiday"],
        extra_working_days=[r.day for r in rows if r.kind == "working_day"],
    )


MAX_NOTE = 255


def set_transfer(
    ctx: ServiceContext, actor: Actor, day: date | str, kind: str, note: str = ""
) -> dict[str, Any]:
    """Declare `day` a holiday or a working day (replacing what was declared for it)."""
    actor.require_admin()
    day = _parse_day(day)
    if kind not in TRANSFER_KINDS:
        raise InvalidInput(
            "unknown kind of day", [{"field": "kind", "message": f"one of {', '.join(TRANSFER_KINDS)}"}]
        )
    if len(note) > MAX_NOTE:  # the column's size: refused, never cut
        raise InvalidInput(
            "the note is too long", [{"field": "note", "message": f"at most {MAX_NOTE} characters"}]
        )
    with ctx.uow(write=True) as uow:
        row = uow.session.scalars(select(CalendarTransfer).where(CalendarTransfer.day == day)).first()
        previous = row.kind if row is not None else None
        if row is None:
            row = uow.add(
                CalendarTransfer(
                    day=day, kind=kind, note=note, created_by=actor.username, created_at=ctx.now()
                )
            )
        else:
            row.kind, row.note, row.created_by, row.created_at = kind, note, actor.username, ctx.now()
        uow.session.flush()
        calendar = _calendar_from(list(uow.session.scalars(select(CalendarTransfer))))
        try:
            calendar.next_working_day(day)  # refuses a run of days off no statute allows
        except ValueError as exc:
            raise InvalidInput(str(exc), [{"field": "day", "message": str(exc)}]) from exc
        audit.record(
            uow,
            at=ctx.now(),
            actor=actor.username,
            action="calendar.transfer_set",
            details={"day": day.isoformat(), "kind": kind, "previous": previous, "note": note},
        )
        view = _transfer_view(row)
        uow.commit()
    ctx.calendar = calendar
    return view


def remove_transfer(ctx: ServiceContext, actor: Actor, day: date | str) -> dict[str, Any]:
    """Forget what was declared for `day`; the removed transfer."""
    actor.require_admin()
    day = _parse_day(day)
    with ctx.uow(write=True) as uow:
        row = uow.session.scalars(select(CalendarTransfer).where(CalendarTransfer.day == day)).first()
        if row is None:
            raise NotFound(f"no transfer recorded for {day.isoformat()}")
        view = _transfer_view(row)
        uow.session.delete(row)
        audit.record(
            uow,
            at=ctx.now(),
            actor=actor.username,
            action="calendar.transfer_removed",
            details={"day": day.isoformat(), "kind": row.kind},
        )
        uow.session.flush()
        calendar = _calendar_from(list(uow.session.scalars(select(CalendarTransfer))))
        uow.commit()
    ctx.calendar = calendar
    return view


def refresh_calendar(ctx: ServiceContext) -> bool:
    """Load the recorded transfers into the context's calendar; True when it changed."""
    with ctx.uow() as uow:
        calendar = _calendar_from(list(uow.session.scalars(select(CalendarTransfer))))
    current = ctx.calendar
    if (calendar.extra_holidays, calendar.extra_working_days) == (
        current.extra_holidays,
        current.extra_working_days,
    ):
        return False
    ctx.calendar = calendar
    return True
