"""Serving the application with granian: worker processes that run the WSGI app in threads.

granian reads and writes HTTP in Rust, outside the Python interpreter's lock, and hands each
request to one of a worker's Python threads. Python runs one thread at a time per process, so on
a machine with several cores a deployment serves with several processes (`serve --workers N`).
Each worker builds its own application after the fork (its own database engine: connections are
never shared across processes) and, unless told not to, its own timer scheduler. Several
schedulers are safe: each due timer is claimed by exactly one of them.
"""

from __future__ import annotations

import logging
import multiprocessing.util
import sys
import threading
from collections.abc import Callable
from functools import partial

from flask import Flask

# Shorter than CPython's default of 5 ms: a request thread that waits for the database gets
# the interpreter back sooner from a thread that is computing, which keeps latency down when
# several requests run at once.
SWITCH_INTERVAL_SECONDS = 0.001
# How long a stopping worker may finish the requests it has before it is killed.
GRACEFUL_SECONDS = 30
CALENDAR_REFRESH_SECONDS = 30
log = logging.getLogger(__name__)


def _prepare(app: Flask, scheduler: bool) -> Callable[[], None]:
    """Keep the administrators' working-day transfers loaded into the calendar and, when asked,
    start a timer scheduler for the app's database; returns the function that stops them."""
    from .scheduler import TimerScheduler

    services = app.extensions["services"]
    _load_calendar(services)  # before the first request computes a deadline
    if scheduler:  # each of its passes loads the transfers again
        timer_scheduler = TimerScheduler(services)
        timer_scheduler.start()
        return timer_scheduler.shutdown
    stop_refreshing = threading.Event()
    threading.Thread(
        target=_refresh_calendar, args=(services, stop_refreshing), name="calendar-refresh", daemon=True
    ).start()
    return stop_refreshing.set


def _refresh_calendar(services, stop: threading.Event) -> None:
    """Load the transfers again every CALENDAR_REFRESH_SECONDS: a transfer recorded through
    another worker or server reaches this one's deadlines. A database that is down or not yet
    migrated is logged and tried again (readiness reports it); the worker serves meanwhile."""
    while not stop.wait(CALENDAR_REFRESH_SECONDS):
        _load_calendar(services)


def _load_calendar(services) -> None:
    from .services.time.calendar_transfers import refresh_calendar

    try:
        refresh_calendar(services)
    except Exception as exc:  # noqa: BLE001 - the next round tries again
        log.warning("working-day transfers not loaded: %s: %s", type(exc).__name__, exc)


def worker_app(scheduler: bool) -> Flask:
    """The application of one worker process, configured from the environment like
    `create_app()` (DATABASE_URL, SECRET_KEY, ...); its scheduler stops when the worker exits."""
    from . import create_app
    from .observability import configure_logging

    sys.setswitchinterval(SWITCH_INTERVAL_SECONDS)
    app = create_app()
    configure_logging(app.extensions["services"].settings)
    # A worker is a multiprocessing child, which ends without running atexit handlers but runs
    # these finalizers.
    multiprocessing.util.Finalize(None, _prepare(app, scheduler), exitpriority=10)
    return app


def serve(host: str, port: int, workers: int, threads: int, scheduler: bool) -> None:
    """Serve until SIGINT or SIGTERM with `workers` processes of `threads` request threads; a
    worker that dies is started again."""
    from granian.constants import Interfaces
    from granian.server import Server

    server = Server(
        "app:create_app",
        address=host,
        port=port,
        interface=Interfaces.WSGI,
        websockets=False,
        workers=workers,
        blocking_threads=threads,
        respawn_failed_workers=True,
        workers_kill_timeout=GRACEFUL_SECONDS,
    )
    server.serve(target_loader=partial(worker_app, scheduler), wrap_loader=False)
