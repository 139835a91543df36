"""Serving the application: one waitress process, or several gunicorn worker processes.

One process (the embedded default) serves with waitress threads and runs the timer scheduler
beside them. Python runs one thread at a time per process, so on a machine with several cores a
deployment serves with several processes (`serve --workers N`): gunicorn forks N workers, each
of which builds its own application (its own database engine: connections are never shared
across a fork) and, unless told not to, its own timer scheduler. Several schedulers are safe:
each due timer is claimed by exactly one of them.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

from flask import Flask

# Shorter than CPython's default of 5 ms: a request thread that waits for the database gets
# the interpreter back sooner from a thread that is computing, which keeps latency down when
# several requests run at once.
SWITCH_INTERVAL_SECONDS = 0.001


def _prepare(app: Flask, scheduler: bool) -> Callable[[], None] | None:
    """Load the administrators' working-day transfers into the calendar and, when asked, start a
    timer scheduler for the app's database; returns the function that stops it."""
    from .scheduler import TimerScheduler
    from .services.calendar_transfers import refresh_calendar

    services = app.extensions["services"]
    refresh_calendar(services)
    if not scheduler:
        return None
    timer_scheduler = TimerScheduler(services)
    timer_scheduler.start()
    return timer_scheduler.shutdown


def serve_threads(app: Flask, host: str, port: int, threads: int, scheduler: bool) -> None:
    """Serve in this process with waitress."""
    from waitress import serve

    sys.setswitchinterval(SWITCH_INTERVAL_SECONDS)
    stop = _prepare(app, scheduler)
    try:
        serve(app, host=host, port=port, threads=threads, ident="assembly")
    finally:
        if stop is not None:
            stop()


def serve_workers(host: str, port: int, workers: int, threads: int, scheduler: bool) -> None:
    """Serve with `workers` gunicorn processes of `threads` threads, configured from the
    environment like `create_app()` (DATABASE_URL, SECRET_KEY, ...)."""
    from gunicorn.app.base import BaseApplication

    stops: list[Callable[[], None]] = []

    def stop_scheduler(_server: Any, _worker: Any) -> None:
        for stop in stops:
            stop()

    class WorkerApplication(BaseApplication):
        def load_config(self) -> None:
            options = {
                "bind": f"{host}:{port}",
                "workers": workers,
                "worker_class": "gthread",
                "threads": threads,
                "keepalive": 5,
                "timeout": 120,
                "graceful_timeout": 30,
                "worker_exit": stop_scheduler,
            }
            for key, value in options.items():
                self.cfg.set(key, value)

        def load(self) -> Flask:
            # Runs in each worker after the fork.
            from . import create_app

            sys.setswitchinterval(SWITCH_INTERVAL_SECONDS)
            app = create_app()
            stop = _prepare(app, scheduler)
            if stop is not None:
                stops.append(stop)
            return app

    WorkerApplication().run()
