"""An injectable clock, also seen by SpiffWorkflow's timer events.

SpiffWorkflow decides whether a timer is due by calling ``datetime.now(timezone.utc)`` inside
``SpiffWorkflow.bpmn.specs.event_definitions.timer`` and offers no hook. So that tests and
simulations can move time for the engine as well as for the application, importing this module
replaces that module's ``datetime`` name (and only that one: ``timedelta`` and ``timezone`` are
untouched) by a subclass whose ``now()`` reads the process-wide current clock.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any, Protocol

from SpiffWorkflow.bpmn.specs.event_definitions import timer as _spiff_timer

_RealDatetime = datetime


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware, in UTC."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return _RealDatetime.now(UTC)


def _require_aware(dt: datetime) -> datetime:
    # A naive datetime would silently be read in the server's local zone: refuse it.
    if dt.tzinfo is None or dt.utcoffset() is None:
        raise ValueError("ManualClock needs a timezone-aware datetime")
    return dt.astimezone(UTC)


class ManualClock:
    """A clock that moves only when told to (tests, simulations, replaying a scenario)."""

    def __init__(self, start: datetime) -> None:
        self._lock = threading.Lock()
        self._now = _require_aware(start)

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def set(self, dt: datetime) -> None:
        aware = _require_aware(dt)
        with self._lock:
            self._now = aware

    def advance(self, delta: timedelta) -> datetime:
        with self._lock:
            self._now = self._now + delta
            return self._now


_lock = threading.Lock()
_current: Clock = SystemClock()


def use_clock(clock: Clock) -> None:
    """Make ``clock`` the process-wide clock (the application's and SpiffWorkflow's timers)."""
    global _current
    with _lock:
        _current = clock


def current_clock() -> Clock:
    return _current


class _PlainDatetimeMeta(type):
    # The timer module checks ``isinstance(x, datetime)`` on values that ``fromisoformat`` and
    # ``astimezone`` create as plain datetimes: make the check answer for the real class.
    def __instancecheck__(cls, obj: Any) -> bool:
        return isinstance(obj, _RealDatetime)

    def __subclasscheck__(cls, sub: type) -> bool:
        return issubclass(sub, _RealDatetime)


class ClockDatetime(_RealDatetime, metaclass=_PlainDatetimeMeta):
    """``datetime`` whose ``now()`` reads the current clock; every value it returns is a plain
    ``datetime`` so nothing of this class leaks into task data or pickles."""

    @classmethod
    def now(cls, tz: tzinfo | None = None) -> datetime:  # type: ignore[override]
        current = _current.now()
        if tz is None:
            # Same contract as datetime.now(): naive local time.
            return current.astimezone().replace(tzinfo=None)
        return current.astimezone(tz)

    @classmethod
    def today(cls) -> datetime:  # type: ignore[override]
        return cls.now()

    fromisoformat = staticmethod(_RealDatetime.fromisoformat)  # type: ignore[assignment]
    fromisocalendar = staticmethod(_RealDatetime.fromisocalendar)  # type: ignore[assignment]
    fromtimestamp = staticmethod(_RealDatetime.fromtimestamp)  # type: ignore[assignment]
    fromordinal = staticmethod(_RealDatetime.fromordinal)  # type: ignore[assignment]
    combine = staticmethod(_RealDatetime.combine)  # type: ignore[assignment]
    strptime = staticmethod(_RealDatetime.strptime)  # type: ignore[assignment]

    def __new__(cls, *args: Any, **kwargs: Any) -> datetime:  # type: ignore[misc]
        return _RealDatetime(*args, **kwargs)


def _install() -> None:
    # Idempotent, so that a reload of this module does not stack patches.
    if getattr(_spiff_timer.datetime, "__module__", None) != __name__:
        _spiff_timer.datetime = ClockDatetime  # type: ignore[misc]


_install()
