"""Reports: weeks in the server's zone, nearest-rank percentiles per process and per user task
(withdrawn tasks and cancelled cases left out of the times), open tasks by age, overdue cases,
and who may read them."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from app.errors import Forbidden, InvalidInput
from app.services.modelling import deployments
from app.services.operations import reports
from app.services.people.users import SYSTEM
from app.services.running import instances
from app.services.work import tasks
from tests.conftest import APPROVAL, START, make_user, read_fixture

HOUR = 3600.0


def start(ctx, due_in: timedelta = timedelta(days=1)) -> tuple[int, str]:
    due = (ctx.now() + due_in).isoformat()
    view = instances.start_instance(
        ctx, SYSTEM, "approval", {"subject": "S", "divisor": 4, "review_due": due}
    )
    return view["id"], view["tasks"][0]["id"]


@pytest.fixture
def world(ctx, clock):
    """Week of Monday 2 March 2026 (Almaty): three approvals completed after 1 h, 2 h and 3 days,
    one cancelled, one still open; the next week, one more open."""
    rita = make_user(ctx, "rita", ["reviewers"])
    deployments.deploy(ctx, SYSTEM, read_fixture(*APPROVAL))
    begun = [start(ctx) for _ in range(5)]
    for (_, task_id), after in zip(
        begun[:3], (timedelta(hours=1), timedelta(hours=2), timedelta(days=3)), strict=True
    ):
        clock.set(START + after)
        tasks.complete_task(ctx, rita, task_id, {"approved": True, "comment": "ok"})
    clock.set(START + timedelta(days=3, hours=1))
    instances.cancel_instance(ctx, SYSTEM, begun[3][0])
    # Sunday 23:30 in Almaty is still the first week; Monday 00:30 is the next.
    clock.set(START + timedelta(days=6, hours=13, minutes=30))
    late_sunday = start(ctx)
    clock.set(START + timedelta(days=6, hours=14, minutes=30))
    start(ctx, due_in=timedelta(days=30))
    clock.set(START + timedelta(days=10))
    return {"begun": begun, "late_sunday": late_sunday}


def test_weeks_counts_and_cycle_times(ctx, world):
    head = make_user(ctx, "head", ["secretariat_head"])
    period = reports.period_of(date(2026, 3, 12), date(2026, 3, 4), date(2026, 3, 12))
    assert (period.first_monday, period.weeks) == (date(2026, 3, 2), 2)
    found = reports.report(ctx, head, period)
    weeks = {(w.model_id, w.monday): (w.started, w.finished) for w in found.weeks}
    assert weeks == {("approval", date(2026, 3, 2)): (6, 4), ("approval", date(2026, 3, 9)): (1, 0)}

    [whole] = [c for c in found.cycle_times if c.element_id is None]
    assert whole.count == 3  # the cancelled one is not a cycle
    assert whole.median == pytest.approx(2 * HOUR, abs=1)  # nearest rank: the 2nd of 3
    assert whole.p90 == pytest.approx(72 * HOUR, abs=1)  # the 3rd of 3
    [review] = [c for c in found.cycle_times if c.element_id is not None]
    assert (review.model_id, review.element_id, review.count) == ("approval", "Task_Review", 3)
    assert review.median == pytest.approx(2 * HOUR, abs=1)


def test_open_tasks_by_age_and_overdue_cases(ctx, world):
    admin = make_user(ctx, "root", ["admins"])
    found = reports.report(ctx, admin, reports.period_of(date(2026, 3, 12)))
    [approval] = found.open_tasks
    # opened 10 days ago (one, first week), 3 days 10 h ago (two, late Sunday and Monday)
    assert approval.by_age == {
        "under_1_day": 0, "1_3_days": 0, "3_7_days": 2, "7_30_days": 1, "over_30_days": 0,
    }  # fmt: skip
    assert approval.total == 3
    overdue = [(case.instance_id, case.element_id, case.group_name) for case in found.overdue]
    # Due a day after they opened: the first week's open one and late Sunday's; not the 30-day one.
    assert overdue == [
        (world["begun"][4][0], "Task_Review", "reviewers"),
        (world["late_sunday"][0], "Task_Review", "reviewers"),
    ]


def test_a_period_outside_the_data_is_empty_and_periods_are_checked(ctx, world):
    admin = make_user(ctx, "root", ["admins"])
    empty = reports.report(
        ctx, admin, reports.period_of(date(2026, 3, 12), date(2025, 1, 1), date(2025, 2, 1))
    )
    assert empty.weeks == [] and empty.cycle_times == []
    assert empty.open_tasks  # open tasks and overdue cases are as of now, whatever the period
    with pytest.raises(InvalidInput, match="must not end before"):
        reports.period_of(date(2026, 3, 12), date(2026, 3, 5), date(2026, 3, 1))
    with pytest.raises(InvalidInput, match="at most"):
        reports.period_of(date(2026, 3, 12), date(2020, 1, 1), date(2026, 3, 1))


def test_only_the_head_of_the_secretariat_and_administrators_read_reports(ctx, world):
    clerk = make_user(ctx, "clerk", ["secretariat"])
    with pytest.raises(Forbidden):
        reports.report(ctx, clerk, reports.period_of(date(2026, 3, 12)))


def test_percentiles_from_the_histogram_are_within_two_and_a_half_percent(ctx, world):
    """Two thousand completion times spread from seconds to months: the median and the 90th
    percentile read from the buckets are within 2.5 % of the exact nearest-rank values."""
    import random

    from sqlalchemy import insert

    from app.db.models import CompletionTime, bucket_of

    rng = random.Random(7)
    seconds = [int(10 ** rng.uniform(0, 7)) for _ in range(2000)]
    at = START + timedelta(days=8)
    with ctx.uow(write=True) as uow:
        rows = [
            {"instance_id": world["begun"][0][0], "model_id": "spread", "element_id": None,
             "completed_at": at, "seconds": s, "bucket": bucket_of(s)}
            for s in seconds
        ]  # fmt: skip
        uow.session.execute(insert(CompletionTime.__table__), rows)
        uow.commit()
    admin = make_user(ctx, "root", ["admins"])
    [spread] = [c for c in reports.report(ctx, admin, reports.period_of(date(2026, 3, 12))).cycle_times
                if c.model_id == "spread"]  # fmt: skip
    ordered = sorted(seconds)
    exact_median, exact_p90 = ordered[(2000 + 1) // 2 - 1], ordered[(9 * 2000 + 9) // 10 - 1]
    assert spread.count == 2000
    assert spread.median == pytest.approx(exact_median, rel=0.025)
    assert spread.p90 == pytest.approx(exact_p90, rel=0.025)


def test_the_histogram_is_read_from_its_covering_index_without_a_sort(ctx, world):
    from datetime import UTC, datetime

    with ctx.uow() as uow:
        connection = uow.session.connection()
        if connection.dialect.name != "sqlite":
            pytest.skip("the plan of an empty table on PostgreSQL is a sequential scan")
        query = reports.histogram_query(datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 4, 1, tzinfo=UTC))
        compiled = query.compile(connection, compile_kwargs={"literal_binds": True})
        plan = " ".join(str(row[-1]) for row in connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}"))
    assert "COVERING INDEX ix_completion_times_report" in plan
    assert "TEMP B-TREE" not in plan


def test_days_beyond_what_a_report_covers_are_refused():
    for start, end in ((date(1, 1, 1), date(1, 1, 7)), (None, date(9999, 12, 31))):
        with pytest.raises(InvalidInput, match="a report covers 1970 to 2199"):
            reports.period_of(date(2026, 3, 12), start, end)
