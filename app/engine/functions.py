"""The functions a diagram's scripts and expressions may call.

They take and return strings, numbers and lists only, because task data is stored as JSON. They
run outside the sandbox's CPU accounting until they return, so every loop in them is bounded.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from app.engine.calendar import WorkingCalendar
from app.engine.clock import Clock

# Deadlines fall at the close of the office day: a document filed before then is on time.
OFFICE_CLOSES = time(18, 30)
# About four years of working days: far beyond any legal term, small enough to compute at once.
MAX_WORKING_DAYS = 1000
# Terms and limits in months: ten years is beyond any of the Assembly's.
MAX_TERM_MONTHS = 120


def diagram_functions(
    clock: Clock,
    calendar: WorkingCalendar,
    group_members: Callable[[str], list[str]],
    tz: str = "Asia/Almaty",
) -> dict[str, Callable[..., Any]]:
    zone = ZoneInfo(tz)

    def local_today() -> date:
        return clock.now().astimezone(zone).date()

    def now() -> str:
        """Current time, ISO 8601 with the offset of the application's time zone."""
        return clock.now().astimezone(zone).isoformat(timespec="seconds")

    def today() -> str:
        """Today's date in the application's time zone, 'YYYY-MM-DD'."""
        return local_today().isoformat()

    def add_working_days(start: str | date, n: int) -> str:
        """The n-th working day after start, 'YYYY-MM-DD' (n = 0: start or the next working day)."""
        return calendar.add_working_days(_to_date(start, zone), _working_days(n)).isoformat()

    def is_working_day(d: str | date) -> bool:
        return calendar.is_working_day(_to_date(d, zone))

    def deadline_after_working_days(start: str | date, n: int) -> str:
        """18:30 local time on the n-th working day after start, ISO 8601 with offset (usable as a
        timer date)."""
        day = calendar.add_working_days(_to_date(start, zone), _working_days(n))
        return datetime.combine(day, OFFICE_CLOSES, zone).isoformat(timespec="seconds")

    def add_days(start: str | date, n: int) -> str:
        """start plus n calendar days (n may be negative), 'YYYY-MM-DD'."""
        return (_to_date(start, zone) + timedelta(days=_integer(n))).isoformat()

    def add_months(start: str | date, n: int) -> str:
        """start plus n months, 'YYYY-MM-DD'; a day the month lacks becomes its last day
        (31 January + 1 month = 28 or 29 February), as terms in months are counted."""
        return _plus_months(_to_date(start, zone), _integer(n), clamp=True).isoformat()

    def end_of_term(start: str | date, months: int) -> str:
        """The last day of a term of `months` months starting on `start`: the day before the same
        date `months` later, where a date that month lacks (29 February in a common year) is the
        first of the next month. Consecutive terms thus cover every day exactly once."""
        months = _integer(months)
        if not 1 <= months <= MAX_TERM_MONTHS:
            raise ValueError(f"a term must be between 1 and {MAX_TERM_MONTHS} months, got {months}")
        return (_plus_months(_to_date(start, zone), months, clamp=False) - timedelta(days=1)).isoformat()

    def is_before(first: str | date, second: str | date) -> bool:
        """Whether `first` comes before `second`: two dates compare as days; otherwise as moments,
        a date standing for its first moment in the application's time zone."""
        earlier, later = _comparable(first, second, zone)
        return earlier < later

    def is_after(first: str | date, second: str | date) -> bool:
        """Whether `first` comes after `second` (compared as by is_before)."""
        return is_before(second, first)

    def local_date(moment: str | date) -> str:
        """The day, 'YYYY-MM-DD', on which a date-time falls in the application's time zone."""
        return _to_date(moment, zone).isoformat()

    def day_of_registration(received_at: str) -> str:
        """The day an appeal received at `received_at` is registered: that day if it is a working
        day and the office is open, else the next working day."""
        moment = _to_moment(received_at, zone)
        day = moment.date()
        if calendar.is_working_day(day) and moment.time() < OFFICE_CLOSES:
            return day.isoformat()
        return calendar.add_working_days(day, 1).isoformat()

    def days_until(date_str: str | date) -> int:
        """Calendar days from today to date_str; negative once it has passed."""
        return (_to_date(date_str, zone) - local_today()).days

    def members(name: str) -> list[str]:
        """Usernames in the group, sorted so that results (and task data) are reproducible."""
        if not isinstance(name, str):
            raise TypeError("group name must be a string")
        return sorted(group_members(name))

    return {
        "now": now,
        "today": today,
        "add_working_days": add_working_days,
        "is_working_day": is_working_day,
        "deadline_after_working_days": deadline_after_working_days,
        "add_days": add_days,
        "days_until": days_until,
        "add_months": add_months,
        "end_of_term": end_of_term,
        "is_before": is_before,
        "is_after": is_after,
        "local_date": local_date,
        "day_of_registration": day_of_registration,
        "group_members": members,
    }


def _integer(n: Any) -> int:
    # bool is an int subclass: add_days(d, True) is a bug in the diagram, not one day.
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"expected a whole number, got {n!r}")
    return n


def _working_days(n: Any) -> int:
    n = _integer(n)
    if not 0 <= n <= MAX_WORKING_DAYS:
        raise ValueError(f"number of working days must be between 0 and {MAX_WORKING_DAYS}, got {n}")
    return n


def _parsed(value: Any) -> Any:
    """An ISO 8601 string as a date (10 characters) or a datetime; anything else as it is."""
    if not isinstance(value, str):
        return value
    text = value.strip()
    try:
        return date.fromisoformat(text) if len(text) == 10 else datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"not an ISO 8601 date or date-time: {value!r}") from None


def _to_date(value: Any, zone: ZoneInfo) -> date:
    """A date from a date, a datetime or an ISO 8601 string; a moment is read in the app zone."""
    value = _parsed(value)
    if isinstance(value, datetime):
        # A stored moment (e.g. '...T20:00:00Z') may fall on the next day in Almaty.
        return value.astimezone(zone).date() if value.tzinfo is not None else value.date()
    if isinstance(value, date):
        return value
    raise TypeError(f"expected an ISO date string, got {type(value).__name__}")


def _to_moment(value: Any, zone: ZoneInfo) -> datetime:
    """A moment in the application's time zone from an ISO 8601 date-time (a date: its start)."""
    value = _parsed(value)
    if isinstance(value, datetime):
        return value.replace(tzinfo=zone) if value.tzinfo is None else value.astimezone(zone)
    if isinstance(value, date):
        return datetime.combine(value, time(0), zone)
    raise TypeError(f"expected an ISO date or date-time string, got {type(value).__name__}")


def _is_plain_date(value: Any) -> bool:
    if isinstance(value, str):
        return len(value.strip()) == 10
    return isinstance(value, date) and not isinstance(value, datetime)


def _comparable(first: Any, second: Any, zone: ZoneInfo) -> tuple[Any, Any]:
    if _is_plain_date(first) and _is_plain_date(second):
        return _to_date(first, zone), _to_date(second, zone)
    return _to_moment(first, zone), _to_moment(second, zone)


def _plus_months(start: date, months: int, *, clamp: bool) -> date:
    if abs(months) > MAX_TERM_MONTHS:
        raise ValueError(f"at most {MAX_TERM_MONTHS} months, got {months}")
    index = start.year * 12 + start.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    first_of_next = date(year + (month == 12), month % 12 + 1, 1)
    last_day = (first_of_next - timedelta(days=1)).day
    if start.day <= last_day:
        return date(year, month, start.day)
    return date(year, month, last_day) if clamp else first_of_next
