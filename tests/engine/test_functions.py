from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

import pytest
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition

from app.engine.calendar import WorkingCalendar
from app.engine.clock import ManualClock
from app.engine.functions import diagram_functions
from app.engine.sandbox_pool import Limits, shared_pool
from app.engine.scripting import make_script_engine

GROUPS = {"council": ["zhanna", "aidos", "bolat"]}
# 09:00 UTC on Thursday 20 March 2025 is 14:00 in Almaty (UTC+5).
NOW = datetime(2025, 3, 20, 9, 0, tzinfo=UTC)


@pytest.fixture
def fns() -> dict[str, Callable[..., Any]]:
    return diagram_functions(ManualClock(NOW), WorkingCalendar(), lambda name: list(GROUPS.get(name, [])))


def test_now_and_today_in_app_timezone(fns: dict[str, Callable[..., Any]]) -> None:
    assert fns["now"]() == "2025-03-20T14:00:00+05:00"
    assert fns["today"]() == "2025-03-20"
    late = diagram_functions(ManualClock(datetime(2025, 3, 20, 20, 0, tzinfo=UTC)), WorkingCalendar(), dict)
    assert late["today"]() == "2025-03-21"


def test_working_days(fns: dict[str, Callable[..., Any]]) -> None:
    # 15 working days from Wed 19 March 2025 skip Nauryz (21-25 March): Monday 14 April.
    assert fns["add_working_days"]("2025-03-19", 15) == "2025-04-14"
    assert fns["add_working_days"](date(2025, 3, 21), 0) == "2025-03-26"
    # 20:00 UTC on the 19th is 01:00 on the 20th in Almaty.
    assert fns["add_working_days"]("2025-03-19T20:00:00Z", 1) == "2025-03-26"
    assert fns["is_working_day"]("2025-03-21") is False
    assert fns["is_working_day"]("2025-03-20") is True


def test_deadline_is_office_close_and_a_valid_timer_date(fns: dict[str, Callable[..., Any]]) -> None:
    deadline = fns["deadline_after_working_days"]("2025-03-19", 15)
    assert deadline == "2025-04-14T18:30:00+05:00"
    assert TimerEventDefinition.get_datetime(deadline) == datetime(2025, 4, 14, 13, 30, tzinfo=UTC)


def test_calendar_days(fns: dict[str, Callable[..., Any]]) -> None:
    assert fns["add_days"]("2025-03-20", 3) == "2025-03-23"
    assert fns["add_days"]("2025-03-01", -1) == "2025-02-28"
    # 11 days left in March after the 20th, plus 14 in April.
    assert fns["days_until"]("2025-04-14") == 25
    assert fns["days_until"]("2025-04-14T18:30:00+05:00") == 25
    assert fns["days_until"]("2025-03-19") == -1


def test_group_members_sorted(fns: dict[str, Callable[..., Any]]) -> None:
    assert fns["group_members"]("council") == ["aidos", "bolat", "zhanna"]
    assert fns["group_members"]("nobody") == []


def test_bad_arguments(fns: dict[str, Callable[..., Any]]) -> None:
    with pytest.raises(ValueError):
        fns["add_working_days"]("2025-03-19", -1)
    with pytest.raises(ValueError):
        fns["add_working_days"]("2025-03-19", 10**9)
    with pytest.raises(TypeError):
        fns["add_days"]("2025-03-19", True)
    with pytest.raises(ValueError):
        fns["days_until"]("next week")


def test_results_are_json_and_callable_from_sandbox(fns: dict[str, Callable[..., Any]]) -> None:
    engine = make_script_engine(shared_pool(Limits()), fns)
    context: dict[str, Any] = {"received": "2025-03-19"}
    script = (
        "due = deadline_after_working_days(received, 15)\n"
        "left = days_until(due)\n"
        "voters = group_members('council')\n"
        "stamp = now()"
    )
    engine.environment.execute(script, context)
    assert json.loads(json.dumps(context)) == {
        "received": "2025-03-19",
        "due": "2025-04-14T18:30:00+05:00",
        "left": 25,
        "voters": ["aidos", "bolat", "zhanna"],
        "stamp": "2025-03-20T14:00:00+05:00",
    }
    assert engine.environment.evaluate("is_working_day(today())", {}) is True


@pytest.mark.parametrize(
    ("start", "months", "clamped", "term_end"),
    [
        ("2024-02-29", 12, "2025-02-28", "2025-02-28"),  # no 29 February: the term runs to 1 March
        ("2028-02-29", 12, "2029-02-28", "2029-02-28"),
        ("2027-03-01", 12, "2028-03-01", "2028-02-29"),
        ("2026-01-31", 1, "2026-02-28", "2026-02-28"),
        ("2026-03-31", 1, "2026-04-30", "2026-04-30"),
        ("2026-07-01", 6, "2027-01-01", "2026-12-31"),
        ("2026-12-31", 2, "2027-02-28", "2027-02-28"),
        ("2026-05-15", 24, "2028-05-15", "2028-05-14"),
    ],
)
def test_months(
    fns: dict[str, Callable[..., Any]], start: str, months: int, clamped: str, term_end: str
) -> None:
    assert fns["add_months"](start, months) == clamped
    assert fns["end_of_term"](start, months) == term_end


def test_months_refuse_what_no_term_is(fns: dict[str, Callable[..., Any]]) -> None:
    for bad in (0, -1, 121):
        with pytest.raises(ValueError):
            fns["end_of_term"]("2026-01-01", bad)
    with pytest.raises(TypeError):
        fns["end_of_term"]("2026-01-01", True)
    assert fns["add_months"]("2026-03-31", -1) == "2026-02-28"


def test_comparing_times_reads_offsets_not_strings(fns: dict[str, Callable[..., Any]]) -> None:
    # As strings "2025-03-20T10:00:00Z" < "2025-03-20T14:30:00+05:00"; as moments it is later.
    assert fns["is_after"]("2025-03-20T10:00:00Z", "2025-03-20T14:30:00+05:00")
    assert fns["is_before"]("2025-03-20T14:30:00+05:00", "2025-03-20T10:00:00Z")
    assert not fns["is_after"]("2025-03-20T09:00:00Z", "2025-03-20T14:00:00+05:00")  # the same moment
    assert not fns["is_before"]("2025-03-20T09:00:00Z", "2025-03-20T14:00:00+05:00")
    # Two dates compare as days; a date against a moment is its first moment in Almaty.
    assert fns["is_after"]("2025-03-21", "2025-03-20") and not fns["is_after"]("2025-03-20", "2025-03-20")
    assert fns["is_before"]("2025-03-20", "2025-03-20T00:00:01+05:00")
    assert not fns["is_before"]("2025-03-20", "2025-03-19T19:00:00Z")  # 00:00 on the 20th in Almaty
    assert fns["is_after"](fns["now"](), "2025-03-20")
    with pytest.raises(ValueError):
        fns["is_after"]("20.03.2025", "2025-03-20")


def test_day_of_registration_and_local_date(fns: dict[str, Callable[..., Any]]) -> None:
    assert fns["local_date"]("2025-03-19T20:00:00Z") == "2025-03-20"
    assert fns["day_of_registration"]("2025-03-20T18:29:59+05:00") == "2025-03-20"
    assert fns["day_of_registration"]("2025-03-20T13:30:00Z") == "2025-03-26"  # 18:30, then Nauryz
    assert fns["day_of_registration"]("2025-03-22T10:00:00+05:00") == "2025-03-26"  # a Saturday
