"""Reports for the Head of the Secretariat and administrators: per process, instances started and
ended per week, cycle times (median and 90th percentile) per process and per user task, open
tasks by age, and cases past their deadline.

Each figure is an aggregate query on an index that covers it, so that no instance row is read:
weeks are range counts on (moment, process); cycle times come from `completion_times`, written
when an instance or a user task completes, as a histogram of buckets 5 % wide with each bucket's
shortest and longest time. Percentiles are nearest-rank (the smallest duration with at least p %
of the durations at or below it), to within 2.5 %, and exact where a bucket holds one value.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Select, and_, case, func, literal, select, union_all
from sqlalchemy.orm import Session

from ...db.models import CompletionTime, HumanTask, ProcessInstance, User
from ...db.models.completion_time import BUCKET_RATIO
from ...errors import Forbidden, InvalidInput
from ..context import ServiceContext
from ..people.users import Actor

READER_GROUPS = frozenset({"admins", "secretariat_head"})
MAX_WEEKS = 106  # two years and a little: the charts stay readable
DEFAULT_WEEKS = 12
EARLIEST, LATEST = date(1970, 1, 1), date(2199, 12, 31)
# Open tasks by age: (label, lower bound in days); the last bucket has no upper bound.
AGE_BUCKETS = (("under_1_day", 0), ("1_3_days", 1), ("3_7_days", 3), ("7_30_days", 7), ("over_30_days", 30))


@dataclass(frozen=True)
class Period:
    """Whole weeks, Monday to Sunday in the server's time zone, both ends included."""

    first_monday: date
    weeks: int

    @property
    def last_day(self) -> date:
        return self.first_monday + timedelta(weeks=self.weeks, days=-1)

    def bounds(self, zone: ZoneInfo) -> tuple[datetime, datetime]:
        start = datetime.combine(self.first_monday, time.min, tzinfo=zone)
        end = datetime.combine(self.last_day + timedelta(days=1), time.min, tzinfo=zone)
        return start.astimezone(UTC), end.astimezone(UTC)

    def mondays(self) -> list[date]:
        return [self.first_monday + timedelta(weeks=n) for n in range(self.weeks)]


def today(ctx: ServiceContext) -> date:
    """Today in the server's time zone, where a report's weeks begin and end."""
    return ctx.now().astimezone(ZoneInfo(ctx.settings.timezone)).date()


def may_read(actor: Actor) -> bool:
    return bool(actor.groups & READER_GROUPS)


def period_of(today: date, start: date | None = None, end: date | None = None) -> Period:
    """The weeks from the one holding `start` to the one holding `end` (default: the twelve
    weeks up to this one). Refused, naming the field, when they are reversed or too many."""
    for day in (start, end):
        if day is not None and not EARLIEST <= day <= LATEST:
            raise InvalidInput(
                f"a report covers {EARLIEST.year} to {LATEST.year}",
                [{"field": "from", "message": "out_of_range"}],
            )
    end = end or today
    start = start or end - timedelta(weeks=DEFAULT_WEEKS - 1)
    if start > end:
        raise InvalidInput(
            "the period must not end before it starts", [{"field": "from", "message": "reversed"}]
        )
    first = start - timedelta(days=start.weekday())
    weeks = (end - first).days // 7 + 1
    if weeks > MAX_WEEKS:
        raise InvalidInput(
            f"a report covers at most {MAX_WEEKS} weeks", [{"field": "from", "message": "too_long"}]
        )
    return Period(first, weeks)


@dataclass(frozen=True)
class WeekCount:
    model_id: str
    monday: date
    started: int
    finished: int


@dataclass(frozen=True)
class CycleTime:
    """Seconds; `element_id` None for the whole process."""

    model_id: str
    element_id: str | None
    count: int
    median: float
    p90: float


@dataclass(frozen=True)
class OpenTasks:
    model_id: str
    by_age: dict[str, int]  # AGE_BUCKETS label -> count

    @property
    def total(self) -> int:
        return sum(self.by_age.values())


@dataclass(frozen=True)
class OverdueCase:
    instance_id: int
    model_id: str
    business_key: str | None
    element_id: str
    titles: dict[str, str]
    group_name: str | None
    assignee: str | None
    due_at: datetime


@dataclass(frozen=True)
class Report:
    period: Period
    now: datetime
    weeks: list[WeekCount]
    cycle_times: list[CycleTime]
    open_tasks: list[OpenTasks]
    overdue: list[OverdueCase]


def require_reader(actor: Actor) -> None:
    if not may_read(actor):
        raise Forbidden("only the Head of the Secretariat and administrators may see the reports")


SECTIONS = ("weeks", "cycle_times", "open_tasks", "overdue")


def report(ctx: ServiceContext, actor: Actor, period: Period) -> Report:
    """Every figure of the reports page, read in one transaction."""
    return _read(ctx, actor, period, SECTIONS)


def section(ctx: ServiceContext, actor: Actor, period: Period, name: str) -> Report:
    """One figure of the reports (a CSV download): one of SECTIONS; the others left empty."""
    return _read(ctx, actor, period, (name,))


def _read(ctx: ServiceContext, actor: Actor, period: Period, names: tuple[str, ...]) -> Report:
    require_reader(actor)
    zone = ZoneInfo(ctx.settings.timezone)
    now = ctx.now().astimezone(UTC)
    readers = {
        "weeks": lambda session: _week_counts(session, period, zone),
        "cycle_times": lambda session: _cycle_times(session, *period.bounds(zone)),
        "open_tasks": lambda session: _open_tasks(session, now),
        "overdue": lambda session: _overdue(session, now),
    }
    with ctx.uow() as uow:
        figures = {name: readers[name](uow.session) for name in names}
    return Report(period, now, **{name: [] for name in SECTIONS} | figures)


def _week_counts(session: Session, period: Period, zone: ZoneInfo) -> list[WeekCount]:
    """Per process and week, instances started and ended: one range count per week on the
    (moment, process) indexes, which read no instance row."""
    i = ProcessInstance
    mondays = period.mondays()
    edges = [datetime.combine(m, time.min, tzinfo=zone).astimezone(UTC) for m in mondays]
    edges.append(period.bounds(zone)[1])
    counts: dict[tuple[str, date], list[int]] = {}
    for column, slot in ((i.created_at, 0), (i.ended_at, 1)):
        per_week = union_all(
            *(
                select(literal(n).label("week"), i.model_id, func.count().label("n"))
                .where(column >= edges[n], column < edges[n + 1])
                .group_by(i.model_id)
                for n in range(len(mondays))
            )
        )
        for week, model_id, count in session.execute(per_week):
            counts.setdefault((model_id, mondays[week]), [0, 0])[slot] = count
    return [WeekCount(m, monday, *pair) for (m, monday), pair in sorted(counts.items())]


def _cycle_times(session: Session, start: datetime, end: datetime) -> list[CycleTime]:
    """Median and 90th percentile per process (element None) and user task, from a histogram of
    the period's completion times: buckets 5 % wide, each with its shortest and longest time."""
    rows = session.execute(histogram_query(start, end))
    histograms: dict[tuple[str, str | None], list[tuple[int, int, int, int]]] = {}
    for model_id, element_id, bucket, count, shortest, longest in rows:
        histograms.setdefault((model_id, element_id), []).append((bucket, count, shortest, longest))
    found = []
    for (model_id, element_id), buckets in histograms.items():
        buckets.sort()
        total = sum(count for _, count, _, _ in buckets)
        median, p90 = (_nearest_rank(buckets, (total * k + k) // 10) for k in (5, 9))
        found.append(CycleTime(model_id, element_id, total, median, p90))
    return sorted(found, key=lambda row: (row.model_id, row.element_id is not None, row.element_id or ""))


def histogram_query(start: datetime, end: datetime) -> Select:
    """Count, shortest and longest time per process, task and bucket of the period."""
    c = CompletionTime
    return (
        select(c.model_id, c.element_id, c.bucket, func.count(), func.min(c.seconds), func.max(c.seconds))
        .where(c.completed_at >= start, c.completed_at < end)
        .group_by(c.model_id, c.element_id, c.bucket)
    )


def _nearest_rank(buckets: list[tuple[int, int, int, int]], rank: int) -> float:
    """The duration at this rank (1-based, ascending): its bucket's middle, within the bucket's
    own shortest and longest times (exact when they are equal), to 2.5 % at worst."""
    seen = 0
    for bucket, count, shortest, longest in buckets:
        seen += count
        if seen >= rank:
            middle = BUCKET_RATIO ** (bucket - 0.5) if bucket else 0.0
            return float(round(min(max(middle, shortest), longest)))
    raise AssertionError("a rank beyond the histogram's count")


def _open_tasks(session: Session, now: datetime) -> list[OpenTasks]:
    t = HumanTask
    columns = []
    highs = [low for _, low in AGE_BUCKETS[1:]] + [None]
    for (label, low), high in zip(AGE_BUCKETS, highs, strict=True):
        in_bucket = t.created_at <= now - timedelta(days=low)
        if high is not None:
            in_bucket = and_(in_bucket, t.created_at > now - timedelta(days=high))
        columns.append(func.sum(case((in_bucket, 1), else_=0)).label(label))
    rows = session.execute(select(t.model_id, *columns).group_by(t.model_id).order_by(t.model_id))
    return [
        OpenTasks(row.model_id, {label: int(row._mapping[label] or 0) for label, _ in AGE_BUCKETS})
        for row in rows
    ]


def _overdue(session: Session, now: datetime) -> list[OverdueCase]:
    t, i = HumanTask, ProcessInstance
    rows = session.execute(
        select(t, i.business_key, User.username)
        .join(i, i.id == t.instance_id)
        .outerjoin(User, User.id == t.assignee_id)
        .where(t.due_at < now, i.status.in_(("running", "suspended")))
        .order_by(t.due_at, t.id)
    )
    return [
        OverdueCase(
            task.instance_id,
            task.model_id,
            key,
            task.element_id,
            dict(task.titles or {}),
            task.group_name,
            username,
            task.due_at,
        )
        for task, key, username in rows
    ]
