"""The APScheduler loop in this process, with a ManualClock: fires once, on time, and re-arms."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from app.db.models import AuditRecord, WaitingTimer
from app.scheduler import TimerScheduler
from app.services.modelling import deployments
from app.services.people.users import SYSTEM
from app.services.running import instance_search, instances
from app.services.time import timer_admin, timer_starts
from tests.conftest import START, read_fixture
from tests.scheduler.conftest import KINDS, fired_count, wait_until

HOUR = timedelta(hours=1)
TICK = timedelta(milliseconds=1)


@pytest.fixture
def scheduler_factory(ctx):
    started: list[TimerScheduler] = []

    def make(**kwargs) -> TimerScheduler:
        scheduler = TimerScheduler(ctx, **kwargs)
        scheduler.start()
        started.append(scheduler)
        return scheduler

    yield make
    for scheduler in started:
        scheduler.shutdown()


def _records(ctx) -> list[tuple[int, str, str]]:
    query = select(AuditRecord).where(AuditRecord.action == "timer.fired").order_by(AuditRecord.id)
    with ctx.uow() as uow:
        return [(r.instance_id, r.element_id, r.details["due_at"]) for r in uow.session.scalars(query)]


def _next_run(scheduler: TimerScheduler) -> datetime:
    return scheduler.next_run_time


def test_every_kind_of_timer_fires_once_as_the_clock_moves(ctx, clock, admin, scheduler_factory):
    ids = {kind: instances.start_instance(ctx, SYSTEM, kind, {"reminders": 0})["id"] for kind in KINDS}
    scheduler = scheduler_factory(poll_seconds=0.1)
    wait_until(lambda: scheduler.passes >= 1)
    assert fired_count(ctx) == 0  # nothing is due before its time
    for hour in (1, 2, 3, 4):
        clock.set(START + hour * HOUR + TICK)
        scheduler.wake()
        expected = {1: 4, 2: 5, 3: 6, 4: 6}[hour]
        wait_until(lambda expected=expected: fired_count(ctx) >= expected)
    passes = scheduler.passes
    clock.advance(24 * HOUR)
    scheduler.wake()  # one more pass a day later: nothing fires twice
    wait_until(lambda: scheduler.passes > passes)
    records = _records(ctx)
    assert len(records) == len(set(records)) == 6
    per_kind = {kind: [r for r in records if r[0] == ids[kind]] for kind in KINDS}
    assert {kind: len(rs) for kind, rs in per_kind.items()} == {
        "timer_intermediate": 1,
        "timer_boundary_interrupting": 1,
        "timer_boundary_noninterrupting": 1,
        "timer_boundary_cycle": 3,
    }
    assert [r[2] for r in per_kind["timer_boundary_cycle"]] == [
        (START + h * HOUR).isoformat() for h in (1, 2, 3)
    ]
    with ctx.uow() as uow:
        assert list(uow.session.scalars(select(WaitingTimer))) == []


@pytest.mark.parametrize("fire_threads", [1, 4])
def test_timers_missed_while_stopped_fire_at_start_in_due_order(
    ctx, clock, admin, scheduler_factory, fire_threads
):
    """Also with several firing threads (on PostgreSQL; SQLite always uses one): their writes
    take turns in due order, so the audit log lists the firings oldest first."""
    started = []
    for minutes in (40, 0, 20, 55, 5, 35, 10, 50, 25, 15, 45, 30):
        clock.set(START + timedelta(minutes=minutes))
        started.append((minutes, instances.start_instance(ctx, SYSTEM, "timer_intermediate", {})["id"]))
    clock.set(START + 24 * HOUR)  # the server was down for a day
    scheduler_factory(poll_seconds=3600, batch_size=5, fire_threads=fire_threads)
    wait_until(lambda: fired_count(ctx) == len(started))
    assert [r[0] for r in _records(ctx)] == [iid for _, iid in sorted(started)]


def test_the_scheduler_sleeps_until_the_next_due_time(ctx, clock, admin, scheduler_factory):
    scheduler = scheduler_factory(poll_seconds=86400)
    wait_until(lambda: scheduler.passes >= 1)
    assert _next_run(scheduler) > datetime.now(UTC) + timedelta(hours=23)
    instances.start_instance(ctx, SYSTEM, "timer_intermediate", {})  # the hook re-arms it
    wait_until(lambda: _next_run(scheduler) < datetime.now(UTC) + HOUR + timedelta(seconds=1), timeout=5)
    assert _next_run(scheduler) > datetime.now(UTC) + HOUR - timedelta(seconds=5)


def test_storing_a_due_timer_wakes_the_scheduler_without_a_poll(ctx, clock, admin, scheduler_factory):
    instance_id = instances.start_instance(ctx, SYSTEM, "timer_intermediate", {})["id"]
    scheduler = scheduler_factory(poll_seconds=86400)
    wait_until(lambda: scheduler.passes >= 1)
    [row] = timer_admin.list_timers(ctx, admin)
    clock.advance(timedelta(minutes=1))
    timer_admin.move_timer(ctx, admin, row["id"], clock.now() - timedelta(seconds=1))
    wait_until(lambda: fired_count(ctx) == 1, timeout=5)
    assert instances.get_instance(ctx, SYSTEM, instance_id)["status"] == "complete"


def test_a_deployed_timer_start_event_starts_instances_on_schedule(ctx, clock, admin, scheduler_factory):
    scheduler = scheduler_factory(poll_seconds=86400)
    wait_until(lambda: scheduler.passes >= 1)
    deployments.deploy(ctx, SYSTEM, read_fixture("timer_start_cycle.bpmn"))  # the hook wakes it
    wait_until(lambda: timer_starts.next_due(ctx) is not None, timeout=5)
    clock.set(START + 2 * HOUR + TICK)  # "R3/2026-03-02T12:00:00+05:00/PT1H": first at 07:00 UTC
    scheduler.wake()
    wait_until(lambda: scheduler.started == 1, timeout=5)
    clock.set(START + 5 * HOUR)
    scheduler.wake()
    wait_until(lambda: scheduler.started == 3, timeout=5)
    running = instance_search.list_instances(ctx, SYSTEM, model_id="timer_start_cycle")
    assert [i["status"] for i in running] == ["complete"] * 3
