"""Timer start events: the scheduler starts one instance per occurrence, from the calendar."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.db.models import AuditRecord, ScheduledStart
from app.services.modelling import deployments
from app.services.people.users import SYSTEM
from app.services.running import instances
from app.services.time import timer_starts
from tests.conftest import START, read_fixture

HOUR = timedelta(hours=1)
TICK = timedelta(milliseconds=1)
FIRST = START + 2 * HOUR  # "R3/2026-03-02T12:00:00+05:00/PT1H"


def _schedules(ctx) -> list[tuple[int, str, object, object]]:
    with ctx.uow() as uow:
        query = select(ScheduledStart).order_by(ScheduledStart.id)
        return [(r.version_id, r.element_id, r.due_at, r.cycles_left) for r in uow.session.scalars(query)]


def _started(ctx) -> list[tuple[int, str]]:
    query = (
        select(AuditRecord).where(AuditRecord.action == "instance.started_by_timer").order_by(AuditRecord.id)
    )
    with ctx.uow() as uow:
        return [(r.instance_id, r.details["due_at"]) for r in uow.session.scalars(query)]


def test_each_occurrence_of_a_start_cycle_starts_one_instance(ctx, clock):
    deployments.deploy(ctx, SYSTEM, read_fixture("timer_start_cycle.bpmn"))
    clock.set(FIRST)
    assert timer_starts.run_due(ctx) == 0
    assert [s[1:] for s in _schedules(ctx)] == [("every_hour", FIRST, 3)]
    clock.advance(TICK)
    assert timer_starts.run_due(ctx) == 1
    assert timer_starts.next_due(ctx) == FIRST + HOUR
    clock.set(FIRST + 5 * HOUR)  # two occurrences missed: each starts once, in order
    assert timer_starts.run_due(ctx) == 2
    assert timer_starts.run_due(ctx) == 0
    started = _started(ctx)
    assert [due for _, due in started] == [(FIRST + h * HOUR).isoformat() for h in range(3)]
    for instance_id, _ in started:
        view = instances.get_instance(ctx, SYSTEM, instance_id)
        assert view["status"] == "complete" and view["data"]["ran"] is True
    assert timer_starts.next_due(ctx) is None


def test_a_new_version_replaces_the_schedule_of_the_old_one(ctx, clock):
    deployments.deploy(ctx, SYSTEM, read_fixture("timer_start_cycle.bpmn"))
    timer_starts.sync(ctx)
    changed = read_fixture("timer_start_cycle.bpmn")["timer_start_cycle.bpmn"].replace(b"R3/", b"R2/")
    deployments.deploy(ctx, SYSTEM, {"timer_start_cycle.bpmn": changed})
    assert timer_starts.sync(ctx) == 1
    assert timer_starts.sync(ctx) == 0
    [old, new] = _schedules(ctx)
    assert old[2] is None and (new[2], new[3]) == (FIRST, 2)
    clock.set(FIRST + 10 * HOUR)
    assert timer_starts.run_due(ctx) == 2


def test_processes_without_a_timer_start_get_no_schedule(ctx, clock):
    deployments.deploy(ctx, SYSTEM, read_fixture("timer_intermediate.bpmn"))
    assert timer_starts.sync(ctx) == 0
    assert _schedules(ctx) == []
