from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from SpiffWorkflow.bpmn.specs.event_definitions import timer as spiff_timer
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from SpiffWorkflow.util.task import TaskState

from app.engine.clock import ManualClock, SystemClock, current_clock, use_clock

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
START = datetime(2025, 3, 20, 9, 0, tzinfo=UTC)


@pytest.fixture
def manual_clock() -> Iterator[ManualClock]:
    clock = ManualClock(START)
    use_clock(clock)
    try:
        yield clock
    finally:
        use_clock(SystemClock())


def _timer_workflow() -> BpmnWorkflow:
    parser = SpiffBpmnParser()
    parser.add_bpmn_file(str(FIXTURES / "timer_intermediate.bpmn"))
    return BpmnWorkflow(parser.get_spec("timer_intermediate"))


def _waiting_names(wf: BpmnWorkflow) -> list[str]:
    return [t.task_spec.bpmn_id for t in wf.get_tasks(state=TaskState.WAITING)]


def test_timer_fires_only_after_manual_clock_passes_due_time(manual_clock: ManualClock) -> None:
    wf = _timer_workflow()
    wf.do_engine_steps()
    assert _waiting_names(wf) == ["wait_one_hour"]
    waiting = wf.get_tasks(state=TaskState.WAITING)[0]
    # The due time is computed from the injected clock, not from the real time.
    assert datetime.fromisoformat(waiting.internal_data["event_value"]) == START + timedelta(hours=1)

    manual_clock.advance(timedelta(minutes=59))
    wf.refresh_timers()
    wf.do_engine_steps()
    assert not wf.is_completed()
    assert _waiting_names(wf) == ["wait_one_hour"]

    # Exactly at the due time it has not fired: Spiff compares strictly.
    manual_clock.set(START + timedelta(hours=1))
    wf.refresh_timers()
    wf.do_engine_steps()
    assert not wf.is_completed()

    manual_clock.advance(timedelta(seconds=1))
    wf.refresh_timers()
    wf.do_engine_steps()
    assert wf.is_completed()


def test_timer_module_datetime_behaves_like_datetime(manual_clock: ManualClock) -> None:
    dt = spiff_timer.datetime
    assert dt.now(UTC) == START
    assert dt.now(timezone(timedelta(hours=5))).utcoffset() == timedelta(hours=5)
    assert dt.now().tzinfo is None
    parsed = dt.fromisoformat("2025-03-21T10:00:00+05:00")
    assert type(parsed) is datetime
    assert isinstance(parsed, dt)
    assert isinstance(parsed.astimezone(UTC), dt)
    assert type(dt(2025, 1, 1)) is datetime
    # Recurring intervals with an explicit start go through the isinstance() check.
    cycles, start, duration = spiff_timer.TimerEventDefinition.parse_iso_recurring_interval(
        "R2/2025-01-01T00:00:00+00:00/PT1H"
    )
    assert (cycles, start, duration) == (2, datetime(2025, 1, 1, tzinfo=UTC), timedelta(hours=1))
    _, start, _ = spiff_timer.TimerEventDefinition.parse_iso_recurring_interval("R2/PT1H")
    assert start == START + timedelta(hours=1)


def test_manual_clock_rejects_naive_and_moves_only_when_told() -> None:
    with pytest.raises(ValueError):
        ManualClock(datetime(2025, 1, 1))
    clock = ManualClock(datetime(2025, 1, 1, 5, 0, tzinfo=timezone(timedelta(hours=5))))
    assert clock.now() == datetime(2025, 1, 1, tzinfo=UTC)
    assert clock.now().tzinfo == UTC
    assert clock.now() == clock.now()
    clock.set(datetime(2026, 1, 1, tzinfo=UTC))
    assert clock.advance(timedelta(days=1)) == datetime(2026, 1, 2, tzinfo=UTC)


def test_manual_clock_is_thread_safe() -> None:
    clock = ManualClock(START)

    def tick() -> None:
        for _ in range(1000):
            clock.advance(timedelta(seconds=1))

    threads = [threading.Thread(target=tick) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert clock.now() == START + timedelta(seconds=8000)


def test_current_clock_follows_use_clock(manual_clock: ManualClock) -> None:
    assert current_clock() is manual_clock
    system = SystemClock()
    use_clock(system)
    assert current_clock() is system
    now = system.now()
    assert now.utcoffset() == timedelta(0)
    assert abs(now - datetime.now(UTC)) < timedelta(seconds=5)
    assert abs(spiff_timer.datetime.now(UTC) - now) < timedelta(seconds=5)
