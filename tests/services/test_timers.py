"""Timers through the service layer: claiming, firing once, leases, missed timers, move, fire now."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.db.models import AuditRecord, WaitingTimer
from app.engine.clock import ManualClock
from app.errors import Forbidden, InvalidInput, NotFound
from app.services.people.users import SYSTEM
from app.services.running import instances
from app.services.time import timer_admin, timer_wakeups, timers
from app.services.work import tasks
from tests.conftest import START, TIMER_KINDS, make_user

HOUR = timedelta(hours=1)
TICK = timedelta(milliseconds=1)
KINDS = TIMER_KINDS


@pytest.fixture
def admin(timer_models):
    return timer_models


def start(ctx, model: str) -> int:
    return instances.start_instance(ctx, SYSTEM, model, {"reminders": 0})["id"]


def fired_records(ctx, instance_id: int | None = None) -> list[AuditRecord]:
    query = select(AuditRecord).where(AuditRecord.action == "timer.fired").order_by(AuditRecord.id)
    if instance_id is not None:
        query = query.where(AuditRecord.instance_id == instance_id)
    return _detached(ctx, query)


def _detached(ctx, query) -> list:
    with ctx.uow() as uow:
        rows = list(uow.session.scalars(query))
        uow.session.expunge_all()  # readable after the unit of work rolls back
    return rows


def timer_rows(ctx, instance_id: int | None = None) -> list[WaitingTimer]:
    query = select(WaitingTimer).order_by(WaitingTimer.due_at)
    if instance_id is not None:
        query = query.where(WaitingTimer.instance_id == instance_id)
    return _detached(ctx, query)


def run(ctx, owner: str = "s1", **kwargs) -> int:
    return timers.run_due(ctx, owner, **kwargs)


@pytest.mark.parametrize(
    ("model", "status_after"),
    [
        ("timer_intermediate", "complete"),
        ("timer_boundary_interrupting", "complete"),
        ("timer_boundary_noninterrupting", "running"),
    ],
)
def test_each_timer_fires_once_just_after_its_due_time(ctx, clock, admin, model, status_after):
    instance_id = start(ctx, model)
    [row] = timer_rows(ctx, instance_id)
    assert row.due_at == START + HOUR
    clock.set(START + HOUR)  # due < now is required, as in the engine
    assert run(ctx) == 0
    clock.advance(TICK)
    assert run(ctx) == 1
    assert run(ctx) == 0
    [record] = fired_records(ctx, instance_id)
    assert record.element_id in ("wait_one_hour", "deadline")
    assert record.task_id == row.task_id
    assert record.details["due_at"] == (START + HOUR).isoformat()
    assert record.details["fired_at"] == (START + HOUR + TICK).isoformat()
    view = instances.get_instance(ctx, SYSTEM, instance_id)
    assert view["status"] == status_after
    if model == "timer_boundary_interrupting":
        assert view["data"]["escalated"] is True and view["tasks"] == []
    if model == "timer_boundary_noninterrupting":
        assert [t["name"] for t in view["tasks"]] == ["work"]
    assert timer_rows(ctx, instance_id) == []


def test_cycle_fires_three_times_an_hour_apart(ctx, clock, admin):
    instance_id = start(ctx, "timer_boundary_cycle")
    for hour in (1, 2, 3):
        [row] = timer_rows(ctx, instance_id)
        assert row.due_at == START + hour * HOUR
        clock.set(START + hour * HOUR + TICK)
        assert run(ctx) == 1
    assert run(ctx) == 0
    assert timer_rows(ctx, instance_id) == []
    dues = [r.details["due_at"] for r in fired_records(ctx, instance_id)]
    assert dues == [(START + h * HOUR).isoformat() for h in (1, 2, 3)]
    assert instances.get_instance(ctx, SYSTEM, instance_id)["status"] == "running"


def test_boundary_timer_of_a_completed_task_does_not_fire(ctx, clock, admin):
    instance_id = start(ctx, "timer_boundary_interrupting")
    clock.advance(HOUR - timedelta(minutes=1))
    [task] = instances.get_instance(ctx, SYSTEM, instance_id)["tasks"]
    tasks.complete_task(ctx, admin, task["id"], {})
    assert timer_rows(ctx, instance_id) == []
    clock.advance(2 * HOUR)
    assert run(ctx) == 0
    assert fired_records(ctx) == []
    view = instances.get_instance(ctx, SYSTEM, instance_id)
    assert view["status"] == "complete" and "escalated" not in view["data"]


def test_timers_missed_while_down_fire_once_in_due_order(ctx, clock, admin):
    started = []
    for minutes in (0, 30, 10):
        clock.set(START + timedelta(minutes=minutes))
        started.append((minutes, start(ctx, "timer_intermediate")))
    clock.set(START + timedelta(minutes=5))
    cycle_id = start(ctx, "timer_boundary_cycle")  # due 06:05, 07:05, 08:05
    clock.set(START + 10 * HOUR)  # everything above was missed
    assert run(ctx, batch_size=2) == 6
    assert run(ctx) == 0
    records = fired_records(ctx)
    # One instance at a time, oldest due first; a cycle that fell behind catches up at once.
    firsts = [r.details["due_at"] for r in records if r.instance_id != cycle_id]
    assert firsts == sorted(firsts)
    cycle_dues = [r.details["due_at"] for r in records if r.instance_id == cycle_id]
    assert cycle_dues == [(START + timedelta(minutes=5) + h * HOUR).isoformat() for h in (1, 2, 3)]
    per_instance = {iid: [r for r in records if r.instance_id == iid] for _, iid in started}
    assert all(len(rs) == 1 for rs in per_instance.values())
    assert len([r for r in records if r.instance_id == cycle_id]) == 3
    assert [r.instance_id for r in records if r.instance_id != cycle_id] == [
        iid for _, iid in sorted(started)
    ]


def test_a_claim_is_exclusive_until_its_lease_expires(ctx, clock, admin):
    instance_id = start(ctx, "timer_intermediate")
    clock.advance(HOUR + TICK)
    [claim] = timers.claim_due(ctx, "a", lease=timedelta(minutes=1))
    assert timers.claim_due(ctx, "b") == []  # claimed, lease running
    assert timers.fire_claimed(ctx, "b", claim) == 0  # not b's claim
    [row] = timer_rows(ctx, instance_id)
    assert (row.claimed_by, row.claim_expires_at) == ("a", clock.now() + timedelta(minutes=1))
    clock.advance(timedelta(minutes=2))  # "a" died: its lease ran out
    [again] = timers.claim_due(ctx, "b")
    assert again.id == claim.id
    assert timers.fire_claimed(ctx, "a", claim) == 0  # "a" comes back late: no longer its claim
    assert timers.fire_claimed(ctx, "b", again) == 1
    assert timers.fire_claimed(ctx, "b", again) == 0  # the row is gone: never twice
    assert len(fired_records(ctx)) == 1


def test_a_timer_the_engine_does_not_see_due_waits_for_its_lease_instead_of_looping(ctx, clock, admin):
    instance_id = start(ctx, "timer_intermediate")
    # The scheduler's clock is ahead of the engine's: the row looks due, the workflow does not.
    ahead = dataclasses.replace(ctx, clock=ManualClock(clock.now() + HOUR + timedelta(minutes=5)))
    calls = []
    assert (
        timers.run_due(
            ahead, "a", lease=timedelta(minutes=1), should_stop=lambda: calls.append(1) or len(calls) > 20
        )
        == 0
    )
    assert len(calls) < 5, "run_due kept claiming the same timer"
    [row] = timer_rows(ctx, instance_id)
    assert row.claimed_by == "a"
    clock.advance(HOUR + timedelta(minutes=7))  # the engine catches up and the lease has expired
    assert timers.run_due(ctx, "b") == 1
    assert len(fired_records(ctx, instance_id)) == 1


def test_next_wakeup_is_the_earliest_due_time_or_lease_expiry(ctx, clock, admin):
    assert timers.next_wakeup(ctx) is None
    start(ctx, "timer_intermediate")
    clock.advance(timedelta(minutes=30))
    start(ctx, "timer_intermediate")
    assert timers.next_wakeup(ctx) == START + HOUR
    clock.set(START + HOUR + TICK)
    timers.claim_due(ctx, "a", lease=HOUR)
    assert timers.next_wakeup(ctx) == START + HOUR + timedelta(minutes=30)
    clock.set(START + 2 * HOUR)
    timers.claim_due(ctx, "a", lease=timedelta(seconds=30))
    assert timers.next_wakeup(ctx) == START + 2 * HOUR + TICK  # the first lease ends first


def test_storing_a_timer_calls_the_wakeup_hook_after_commit(ctx, clock, admin):
    seen = []
    remove = timer_wakeups.on_timer_stored(ctx, seen.append)
    try:
        start(ctx, "timer_intermediate")
        with pytest.raises(NotFound):
            instances.start_instance(ctx, SYSTEM, "no_such_model", {})
    finally:
        remove()
    start(ctx, "timer_intermediate")
    assert seen == [START + HOUR]


def test_admin_moves_a_timer_and_it_stays_moved(ctx, clock, admin):
    instance_id = start(ctx, "timer_boundary_noninterrupting")
    [row] = timer_rows(ctx, instance_id)
    view = timer_admin.move_timer(ctx, admin, row.id, START + 3 * HOUR)
    assert view["id"] == row.id and view["due_at"] == (START + 3 * HOUR).isoformat()
    clock.set(START + 2 * HOUR)
    assert run(ctx) == 0  # the old due time has passed: nothing fires
    [moved] = timer_rows(ctx, instance_id)
    assert moved.due_at == START + 3 * HOUR
    clock.set(START + 3 * HOUR + TICK)
    assert run(ctx) == 1
    [record] = fired_records(ctx)
    assert record.details["due_at"] == (START + 3 * HOUR).isoformat()
    with ctx.uow() as uow:
        actions = [r.action for r in uow.session.scalars(select(AuditRecord).order_by(AuditRecord.id))]
    assert actions[-2:] == ["timer.moved", "timer.fired"]


def test_moving_a_cycle_moves_its_next_occurrence(ctx, clock, admin):
    instance_id = start(ctx, "timer_boundary_cycle")
    [row] = timer_rows(ctx, instance_id)
    timer_admin.move_timer(ctx, admin, row.id, START + 2 * HOUR)
    clock.set(START + 2 * HOUR + TICK)
    assert run(ctx) == 1
    [following] = timer_rows(ctx, instance_id)
    assert following.due_at == START + 3 * HOUR


def test_admin_fires_a_timer_now(ctx, clock, admin):
    instance_id = start(ctx, "timer_boundary_interrupting")
    [row] = timer_rows(ctx, instance_id)
    result = timer_admin.fire_timer_now(ctx, admin, row.id)
    assert result["status"] == "complete"
    assert result["fired"] == [
        {"task_id": row.task_id, "element_id": "deadline", "due_at": (START + HOUR).isoformat()}
    ]
    [record] = fired_records(ctx)
    assert record.actor == "ada" and record.details["manual"] is True
    with pytest.raises(NotFound):
        timer_admin.fire_timer_now(ctx, admin, row.id)


def test_timer_admin_needs_an_administrator(ctx, clock, admin):
    start(ctx, "timer_intermediate")
    clerk = make_user(ctx, "clerk", ["clerks"])
    [row] = timer_rows(ctx)
    with pytest.raises(Forbidden):
        timer_admin.list_timers(ctx, clerk)
    with pytest.raises(Forbidden):
        timer_admin.fire_timer_now(ctx, clerk, row.id)
    with pytest.raises(Forbidden):
        timer_admin.move_timer(ctx, clerk, row.id, START)
    [listed] = timer_admin.list_timers(ctx, admin)
    assert listed["process_model"] == "timer_intermediate" and listed["claimed_by"] is None


def test_move_refuses_a_naive_date_and_a_finished_instance(ctx, clock, admin):
    with pytest.raises(InvalidInput):
        timer_admin.parse_due_at("2026-03-02T10:00:00")
    assert timer_admin.parse_due_at("2026-03-02T10:00:00+05:00") == START
    instance_id = start(ctx, "timer_intermediate")
    [row] = timer_rows(ctx, instance_id)
    instances.cancel_instance(ctx, SYSTEM, instance_id)
    with pytest.raises(NotFound):
        timer_admin.move_timer(ctx, admin, row.id, START)
