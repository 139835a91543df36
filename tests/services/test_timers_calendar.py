"""Working-day transfers recorded by administrators, and the calendar that follows them."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from app.db.models import AuditRecord
from app.errors import Forbidden, InvalidInput, NotFound
from app.services.context import ServiceContext
from app.services.time import calendar_transfers
from tests.conftest import make_user

MONDAY = date(2027, 2, 15)
SATURDAY = date(2027, 2, 20)


@pytest.fixture
def admin(ctx):
    return make_user(ctx, "ada", ["admins"])


def test_an_administrator_declares_a_day_off_and_a_working_saturday(ctx, admin):
    assert ctx.calendar.is_working_day(MONDAY) and not ctx.calendar.is_working_day(SATURDAY)
    calendar_transfers.set_transfer(ctx, admin, MONDAY.isoformat(), "holiday", "decree No. 1")
    view = calendar_transfers.set_transfer(ctx, admin, SATURDAY, "working_day")
    assert view["day"] == "2027-02-20" and view["created_by"] == "ada"
    assert not ctx.calendar.is_working_day(MONDAY) and ctx.calendar.is_working_day(SATURDAY)
    assert ctx.calendar.add_working_days(date(2027, 2, 12), 1) == date(2027, 2, 16)
    assert [t["kind"] for t in calendar_transfers.list_transfers(ctx, admin)] == ["holiday", "working_day"]
    with ctx.uow() as uow:
        actions = [r.action for r in uow.session.scalars(select(AuditRecord).order_by(AuditRecord.id))]
    assert actions[-2:] == ["calendar.transfer_set", "calendar.transfer_set"]

    other = ServiceContext(ctx.session_factory, ctx.settings, clock=ctx.clock)  # another process
    assert other.calendar.is_working_day(MONDAY)
    assert calendar_transfers.refresh_calendar(other) is True
    assert not other.calendar.is_working_day(MONDAY)
    assert calendar_transfers.refresh_calendar(other) is False

    calendar_transfers.remove_transfer(ctx, admin, MONDAY)
    assert ctx.calendar.is_working_day(MONDAY)
    with pytest.raises(NotFound):
        calendar_transfers.remove_transfer(ctx, admin, MONDAY)


def test_a_day_can_be_redeclared_but_not_nonsense(ctx, admin):
    calendar_transfers.set_transfer(ctx, admin, MONDAY, "holiday")
    calendar_transfers.set_transfer(ctx, admin, MONDAY, "working_day")
    [only] = calendar_transfers.list_transfers(ctx, admin)
    assert only["kind"] == "working_day"
    with pytest.raises(InvalidInput):
        calendar_transfers.set_transfer(ctx, admin, MONDAY, "half_day")
    with pytest.raises(InvalidInput):
        calendar_transfers.set_transfer(ctx, admin, "15.02.2027", "holiday")


def test_only_administrators_edit_the_calendar(ctx, admin):
    clerk = make_user(ctx, "clerk", ["clerks"])
    with pytest.raises(Forbidden):
        calendar_transfers.set_transfer(ctx, clerk, MONDAY, "holiday")
    with pytest.raises(Forbidden):
        calendar_transfers.list_transfers(ctx, clerk)
