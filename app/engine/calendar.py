"""Kazakhstan working days: public holidays, their observed days and the government's transfers.

The ``holidays`` package knows the transfers the government has published so far. Transfers for
later years are decreed each autumn, so an administrator can add them (``extra_holidays``,
``extra_working_days``) before the package catches up.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays

_ONE_DAY = timedelta(days=1)
# No statutory break in Kazakhstan lasts longer than this; a longer run means a bad extra list.
_MAX_DAYS_OFF_IN_A_ROW = 60


class WorkingCalendar:
    def __init__(self, extra_holidays: Iterable[date] = (), extra_working_days: Iterable[date] = ()) -> None:
        self.extra_holidays = frozenset(extra_holidays)
        self.extra_working_days = frozenset(extra_working_days)
        both = self.extra_holidays & self.extra_working_days
        if both:
            days = ", ".join(d.isoformat() for d in sorted(both))
            raise ValueError(f"dates listed both as holiday and as working day: {days}")
        # holidays.HolidayBase fills years lazily on lookup, which is not thread-safe: keep
        # immutable per-year snapshots instead, built under a lock.
        self._lock = threading.Lock()
        self._years: dict[int, tuple[frozenset[date], frozenset[date]]] = {}

    def _year(self, year: int) -> tuple[frozenset[date], frozenset[date]]:
        snapshot = self._years.get(year)
        if snapshot is None:
            with self._lock:
                snapshot = self._years.get(year)
                if snapshot is None:
                    # A transfer can move a working day into the previous year (the 2014 decree
                    # made 28 Dec 2013 a working Saturday), so read the next year's decrees too.
                    kz = holidays.KZ(years=(year, year + 1))
                    days_off = frozenset(d for d in kz if d.year == year)
                    working_weekend = frozenset(d for d in kz.weekend_workdays if d.year == year)
                    snapshot = (days_off, working_weekend)
                    self._years[year] = snapshot
        return snapshot

    def is_working_day(self, d: date) -> bool:
        d = _as_date(d)
        if d in self.extra_holidays:
            return False
        if d in self.extra_working_days:
            return True
        days_off, working_weekend = self._year(d.year)
        if d.weekday() >= 5:
            return d in working_weekend
        return d not in days_off

    def next_working_day(self, d: date) -> date:
        """``d`` itself if it is a working day, else the first working day after it."""
        d = _as_date(d)
        for _ in range(_MAX_DAYS_OFF_IN_A_ROW):
            if self.is_working_day(d):
                return d
            d += _ONE_DAY
        raise ValueError(f"no working day within {_MAX_DAYS_OFF_IN_A_ROW} days before {d.isoformat()}")

    def add_working_days(self, start: date, n: int) -> date:
        """The n-th working day after ``start``; for n = 0, ``next_working_day(start)``.

        Days are counted from the day after ``start`` whatever ``start`` is, as a legal
        "within n working days" term does.
        """
        if n < 0:
            raise ValueError("n must be >= 0")
        d = _as_date(start)
        if n == 0:
            return self.next_working_day(d)
        for _ in range(n):
            d = self.next_working_day(d + _ONE_DAY)
        return d

    def working_days_between(self, a: date, b: date) -> int:
        """Working days in (a, b]: the n with ``add_working_days(a, n) == b`` when b is a working
        day. Negative when b is before a."""
        a, b = _as_date(a), _as_date(b)
        if b < a:
            return -self.working_days_between(b, a)
        count = 0
        d = a + _ONE_DAY
        while d <= b:
            count += self.is_working_day(d)
            d += _ONE_DAY
        return count

    def registration_date(
        self,
        received: datetime,
        tz: str = "Asia/Almaty",
        office_hours: tuple[time, time] = (time(9, 0), time(18, 30)),
    ) -> date:
        """The day a document received at ``received`` is registered.

        Received on a working day before the office closes (early morning included): that day.
        At closing time or later, or on a day off: the next working day. A document that
        arrives before opening counts for that day, so only the closing time decides.
        """
        if received.tzinfo is None or received.utcoffset() is None:
            # A naive time would be read in the server's zone, not the office's.
            raise ValueError("received must be timezone-aware")
        local = received.astimezone(ZoneInfo(tz))
        day = local.date()
        closes = office_hours[1]
        if self.is_working_day(day) and local.time().replace(tzinfo=None) < closes:
            return day
        return self.next_working_day(day + _ONE_DAY)


def _as_date(d: date) -> date:
    # datetime is a subclass of date; comparing the two raises, so reduce to the day.
    if isinstance(d, datetime):
        return d.date()
    if not isinstance(d, date):
        raise TypeError(f"expected a date, got {type(d).__name__}")
    return d
