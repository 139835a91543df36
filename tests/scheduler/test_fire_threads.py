"""Firing claimed timers with several threads: every timer still fires exactly once.

Exactly-once is counted on the audit log (one `timer.fired` record per fired timer), over many
instances and over the several timers one instance waits for at once (`timer_parallel.bpmn`:
five parallel branches, due one, two and three hours after the start).
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from app.db.models import AuditRecord, ProcessInstance, WaitingTimer
from app.scheduler import TimerScheduler
from app.services.context import ServiceContext
from app.services.modelling import deployments
from app.services.people.users import SYSTEM
from app.services.running import instances
from app.services.time import timer_firing, timers
from app.settings import Settings
from tests.conftest import START

HOUR = timedelta(hours=1)
PARALLEL = "timer_parallel"
PARALLEL_TIMERS = 5


def _is_postgresql(ctx: ServiceContext) -> bool:
    return ctx.settings.database_url.startswith("postgresql")


@pytest.fixture
def parallel(ctx, admin) -> None:
    bpmn = Path(__file__).with_name(f"{PARALLEL}.bpmn")
    deployments.deploy(ctx, SYSTEM, {bpmn.name: bpmn.read_bytes()})


def _start(ctx: ServiceContext, model: str, count: int) -> list[int]:
    return [instances.start_instance(ctx, SYSTEM, model, {"reminders": 0})["id"] for _ in range(count)]


def _fired(ctx: ServiceContext) -> Counter:
    """(instance, task, due time) of each `timer.fired` record, counted."""
    query = select(AuditRecord).where(AuditRecord.action == "timer.fired")
    with ctx.uow() as uow:
        return Counter((r.instance_id, r.task_id, r.details["due_at"]) for r in uow.session.scalars(query))


def _waiting(ctx: ServiceContext) -> list[tuple[int, str]]:
    with ctx.uow() as uow:
        return list(uow.session.execute(select(WaitingTimer.instance_id, WaitingTimer.task_id)))


def _statuses(ctx: ServiceContext, ids: list[int]) -> Counter:
    query = select(ProcessInstance.status).where(ProcessInstance.id.in_(ids))
    with ctx.uow() as uow:
        return Counter(uow.session.scalars(query))


def _seed(ctx: ServiceContext) -> tuple[list[int], int]:
    """Instances of one, three (a cycle that fell behind) and five timers; (ids, timers)."""
    singles = _start(ctx, "timer_intermediate", 40)
    cycles = _start(ctx, "timer_boundary_cycle", 4)
    parallels = _start(ctx, PARALLEL, 12)
    return singles + cycles + parallels, len(singles) + 3 * len(cycles) + PARALLEL_TIMERS * len(parallels)


def _assert_each_fired_once(ctx: ServiceContext, expected: int) -> None:
    fired = _fired(ctx)
    assert sum(fired.values()) == expected
    assert set(fired.values()) == {1}, [key for key, n in fired.items() if n > 1]
    assert _waiting(ctx) == []


@pytest.mark.parametrize("batch_size", [7, 100])
def test_several_threads_fire_every_timer_of_every_instance_once(ctx, clock, parallel, batch_size):
    """A batch size of 7 splits the claims of one instance over batches, so that two threads may
    hold claims of the same instance at once (with 100, one thread fires all of an instance's)."""
    ids, expected = _seed(ctx)
    assert len(_waiting(ctx)) == 40 + 4 + 12 * PARALLEL_TIMERS
    clock.set(START + 10 * HOUR)
    # SQLite serialises the writers: several threads there only check that they wait in turn.
    fired = timers.run_due(ctx, "s1", batch_size=batch_size, threads=4)
    assert fired == expected
    _assert_each_fired_once(ctx, expected)
    assert _statuses(ctx, ids) == Counter({"complete": 40 + 12, "running": 4})  # the cycles' task
    assert timers.run_due(ctx, "s1", threads=4) == 0


def test_threads_fire_due_timers_hour_by_hour_once(ctx, clock, parallel):
    ids = _start(ctx, PARALLEL, 20)
    expected = 0
    for hour, due_now in ((1, 2), (2, 1), (3, 2)):
        clock.set(START + hour * HOUR + timedelta(milliseconds=1))
        assert timers.run_due(ctx, "s1", batch_size=9, threads=4) == 20 * due_now
        expected += 20 * due_now
        fired = _fired(ctx)
        assert sum(fired.values()) == expected and set(fired.values()) == {1}
    _assert_each_fired_once(ctx, 20 * PARALLEL_TIMERS)
    assert _statuses(ctx, ids) == Counter({"complete": 20})


def test_threads_racing_for_the_claims_of_one_instance_fire_each_timer_once(ctx, clock, parallel):
    """Bypasses the grouping by instance: eight threads fire the five claims of one instance (three
    of them twice) at the same moment. The instance lock and the re-check let one firing through;
    the others find the rows gone."""
    if not _is_postgresql(ctx):
        pytest.skip("concurrent writers need PostgreSQL")
    [instance_id] = _start(ctx, PARALLEL, 1)
    clock.set(START + 10 * HOUR)
    claims = timers.claim_due(ctx, "s1")
    assert len(claims) == PARALLEL_TIMERS and {c.instance_id for c in claims} == {instance_id}
    racing = claims + claims[:3]
    barrier = threading.Barrier(len(racing))

    def fire(claim: timers.Claim) -> int:
        barrier.wait()
        return timers.fire_claimed(ctx, "s1", claim)

    with ThreadPoolExecutor(len(racing)) as pool:
        results = list(pool.map(fire, racing))
    assert sum(results) == PARALLEL_TIMERS
    assert sorted(results) == [0] * (len(racing) - 1) + [PARALLEL_TIMERS]  # one firing fired all five
    _assert_each_fired_once(ctx, PARALLEL_TIMERS)


def test_two_schedulers_with_threads_each_fire_every_timer_once(ctx, clock, parallel):
    """Two owners (as two processes would be), four threads each, on the same due timers."""
    if not _is_postgresql(ctx):
        pytest.skip("concurrent schedulers need PostgreSQL")
    ids, expected = _seed(ctx)
    clock.set(START + 10 * HOUR)
    with ThreadPoolExecutor(2) as pool:
        runs = [pool.submit(timers.run_due, ctx, owner, batch_size=5, threads=4) for owner in ("s1", "s2")]
        counts = [run.result() for run in runs]
    assert sum(counts) == expected
    _assert_each_fired_once(ctx, expected)
    assert _statuses(ctx, ids) == Counter({"complete": 40 + 12, "running": 4})


def test_a_failing_instance_does_not_stop_the_other_threads(ctx, clock, admin, monkeypatch, caplog):
    ids = _start(ctx, "timer_intermediate", 12)
    broken = ids[5]
    work_out = timer_firing._work_out

    def failing(ctx, uow, instance, claimed):
        if instance.id == broken:
            raise RuntimeError("broken instance")
        return work_out(ctx, uow, instance, claimed)

    monkeypatch.setattr(timer_firing, "_work_out", failing)
    clock.set(START + 2 * HOUR)
    with caplog.at_level(logging.ERROR, logger=timers.__name__):
        assert timers.run_due(ctx, "s1", batch_size=4, threads=3) == 11
    assert f"instance {broken} failed" in caplog.text
    assert [instance_id for instance_id, _ in _waiting(ctx)] == [broken]  # claimed until the lease ends
    assert {key[0] for key in _fired(ctx)} == set(ids) - {broken}


def test_stopping_threads_midway_loses_nothing_and_fires_nothing_twice(ctx, clock, admin):
    ids = _start(ctx, "timer_intermediate", 30)
    clock.set(START + 2 * HOUR)
    checks = 0
    lock = threading.Lock()

    def stop_after_ten() -> bool:
        nonlocal checks
        with lock:
            checks += 1
            return checks > 10

    first = timers.run_due(ctx, "s1", batch_size=8, should_stop=stop_after_ten, threads=3)
    assert 0 < first < 30
    assert len(_waiting(ctx)) == 30 - first  # claimed by "s1" until the lease runs out
    clock.advance(timers.DEFAULT_LEASE + timedelta(seconds=1))
    assert timers.run_due(ctx, "s2", threads=3) == 30 - first
    _assert_each_fired_once(ctx, 30)
    assert _statuses(ctx, ids) == Counter({"complete": 30})


# --- how many threads -------------------------------------------------------------------------


def test_fire_threads_default_to_four_on_postgresql_and_one_on_sqlite(ctx):
    scheduler = TimerScheduler(ctx)
    if _is_postgresql(ctx):
        assert timers.fire_threads(ctx) == scheduler.fire_threads == 4
    else:
        assert timers.fire_threads(ctx) == scheduler.fire_threads == 1
    # Asked for explicitly: granted on PostgreSQL, still one on SQLite.
    assert TimerScheduler(ctx, fire_threads=2).fire_threads == (2 if _is_postgresql(ctx) else 1)


def test_fire_threads_setting_applies_to_postgresql_only(ctx):
    configured = dataclasses.replace(
        ctx, settings=dataclasses.replace(ctx.settings, scheduler_fire_threads=6)
    )
    assert timers.fire_threads(configured) == (6 if _is_postgresql(ctx) else 1)


def test_fire_threads_are_read_from_the_environment():
    assert Settings.from_env({"SCHEDULER_FIRE_THREADS": "3"}).scheduler_fire_threads == 3
    assert Settings.from_env({}).scheduler_fire_threads is None


def test_a_claimed_timer_of_an_instance_no_longer_running_is_dropped_unfired(ctx, clock, admin):
    [instance_id] = _start(ctx, "timer_intermediate", 1)
    clock.set(START + 2 * HOUR)
    [claim] = timers.claim_due(ctx, "s1")
    with ctx.uow(write=True) as uow:  # as if stopped while its row was left behind
        uow.session.get(ProcessInstance, instance_id).status = "error"
        uow.commit()
    assert timers.fire_claimed(ctx, "s1", claim) == 0
    assert _waiting(ctx) == [] and _fired(ctx) == Counter()


def test_due_order_lets_writes_take_turns_and_never_waits_forever() -> None:
    order = timers._DueOrder(max_wait_seconds=0.3)
    first, second, third = order.ticket(), order.ticket(), order.ticket()
    written: list[int] = []

    def write(ticket: int) -> None:
        order.wait_turn(ticket)
        written.append(ticket)
        order.finish(ticket)

    later = [threading.Thread(target=write, args=(t,)) for t in (third, second)]
    for thread in later:
        thread.start()
    write(first)
    for thread in later:
        thread.join(5)
    assert written == [first, second, third]

    # A predecessor that never finishes (its instance lock held elsewhere) delays, not blocks.
    stuck, waiting = order.ticket(), order.ticket()
    started = threading.Event()

    def blocked() -> None:
        started.set()
        order.wait_turn(waiting)

    thread = threading.Thread(target=blocked)
    thread.start()
    started.wait(5)
    thread.join(2)
    assert not thread.is_alive()
    order.finish(stuck)
