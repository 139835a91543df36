"""Wake-up hook: tell the scheduler of this process, after commit, that a timer was stored.

A scheduler sleeps until the earliest due time it knows of. When a unit of work of this process
stores a timer (a new or changed `waiting_timers` row), reschedules the Deputy Chairmen's rotation
(`rotation_terms.next_start_at`) or deploys a version (which may bring a
timer start event), the listeners registered here are called after the commit with the
earliest due time stored, so the scheduler can re-arm sooner. Other processes are covered by
the scheduler's poll interval.
"""

from __future__ import annotations

import logging
import threading
import weakref
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

from ...db.models import ProcessVersion, RotationTerm, WaitingTimer
from ..context import ServiceContext

log = logging.getLogger(__name__)

TimerListener = Callable[[datetime], None]
_listeners: weakref.WeakKeyDictionary[sessionmaker[Session], list[TimerListener]] = (
    weakref.WeakKeyDictionary()
)
_listeners_lock = threading.Lock()
_PENDING = "timers.earliest_stored"
_LONG_AGO = datetime(1970, 1, 1, tzinfo=UTC)


def _after_flush(session: Session, _flush_context: Any) -> None:
    dues = [
        o.due_at
        for o in (*session.new, *session.dirty)
        if isinstance(o, WaitingTimer) and o.claimed_by is None and o.due_at is not None
    ]
    dues += [
        o.next_start_at
        for o in (*session.new, *session.dirty)
        if isinstance(o, RotationTerm) and o.next_start_at is not None
    ]
    if any(isinstance(o, ProcessVersion) for o in session.new):
        dues.append(_LONG_AGO)  # a deployment: look for timer start events at once
    if dues:
        note_timer_stored(session, min(dues))


def note_timer_stored(session: Session, due_at: datetime) -> None:
    """Remember a timer written without the ORM (a Core insert), for the wake-up after commit."""
    earlier = session.info.get(_PENDING)
    session.info[_PENDING] = due_at if earlier is None else min(earlier, due_at)


def _after_rollback(session: Session) -> None:
    session.info.pop(_PENDING, None)


def on_timer_stored(ctx: ServiceContext, listener: TimerListener) -> Callable[[], None]:
    """Call `listener(earliest_due)` after each commit in this process that stored a timer (or
    deployed a version, with a due time in the past); returns a function that removes it."""
    factory = ctx.session_factory
    with _listeners_lock:
        if factory not in _listeners:
            _listeners[factory] = []
            listeners = _listeners[factory]

            def _after_commit(session: Session) -> None:
                due = session.info.pop(_PENDING, None)
                if due is not None:
                    for callback in list(listeners):
                        try:
                            callback(due)
                        except Exception:  # the commit has happened: never fail the caller
                            log.exception("timer wake-up listener failed")

            event.listen(factory, "after_flush", _after_flush)
            event.listen(factory, "after_commit", _after_commit)
            event.listen(factory, "after_rollback", _after_rollback)
        _listeners[factory].append(listener)

    def remove() -> None:
        with _listeners_lock:
            if listener in _listeners.get(factory, []):
                _listeners[factory].remove(listener)

    return remove
