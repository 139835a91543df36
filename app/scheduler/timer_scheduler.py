"""APScheduler 3 adapter: one job that fires due timers, armed for the next due time.

The job sleeps until the earliest stored due time (or lease expiry), is re-armed sooner when this
process stores an earlier timer (`timer_wakeups.on_timer_stored`), and also runs every `poll_seconds`
as a safety net for timers stored by other processes. Due times are read on the service
context's clock and turned into a wall-clock delay, so a ManualClock moved forward by a test is
seen at the next wake-up (call `wake()` to have it at once).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from datetime import UTC, datetime, timedelta

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

from ..services.context import ServiceContext
from ..services.running import bulk_migration
from ..services.time import calendar_transfers, rotation, timer_starts, timer_wakeups, timers

log = logging.getLogger(__name__)

JOB_ID = "timers.poll"
MIGRATION_JOBS_JOB_ID = "migration-jobs.resume"
# How often a scheduler looks for migration jobs whose process died (bulk_migration.STALLED_AFTER).
MIGRATION_JOBS_SECONDS = 30
# Another process's new timer is only seen at a poll: keep it well under the one-second lateness
# the deadlines allow. The poll itself is one cheap indexed read when nothing is due.
DEFAULT_POLL_SECONDS = 0.5
WAKE_JOB_PREFIX = "timers.wake."
# SpiffWorkflow fires only when due < now: wake a little after the due time (and never sooner
# than that, so a pass that re-arms itself has returned before it runs again).
_AFTER_DUE = timedelta(milliseconds=5)


def scheduler_name() -> str:
    return f"{socket.gethostname()[:32]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class TimerScheduler:
    """Fires the timers of one database; several may run at once, in one or many processes."""

    def __init__(
        self,
        ctx: ServiceContext,
        *,
        blocking: bool = False,
        poll_seconds: float = DEFAULT_POLL_SECONDS,
        lease: timedelta = timers.DEFAULT_LEASE,
        batch_size: int = timers.DEFAULT_BATCH,
        name: str | None = None,
        fire_threads: int | None = None,
    ) -> None:
        self.ctx = ctx
        self.name = name or scheduler_name()
        self.poll_seconds = poll_seconds
        self.lease = lease
        self.batch_size = batch_size
        # Not the APScheduler executor's threads: the job stays one at a time, and fans each
        # batch of claims out to these (see timers.run_due).
        self.fire_threads = timers.fire_threads(ctx, fire_threads)
        self.fired = 0
        self.started = 0
        self.passes = 0
        scheduler_class = BlockingScheduler if blocking else BackgroundScheduler
        self._scheduler: BaseScheduler = scheduler_class(
            timezone=UTC, executors={"default": ThreadPoolExecutor(1)}
        )
        self._lock = threading.Lock()
        self._again = False
        self._running = False
        self._wakeups: dict[str, datetime] = {}
        self._stopping = False
        self._remove_listener = lambda: None

    # --- life cycle -------------------------------------------------------------------------

    def start(self) -> None:
        self._scheduler.add_job(
            self._run,
            IntervalTrigger(seconds=self.poll_seconds, timezone=UTC),
            id=JOB_ID,
            next_run_time=datetime.now(UTC),
            max_instances=1,
            coalesce=True,
            misfire_grace_time=None,
        )
        self._scheduler.add_job(
            self._resume_migration_jobs,
            IntervalTrigger(seconds=MIGRATION_JOBS_SECONDS, timezone=UTC),
            id=MIGRATION_JOBS_JOB_ID,
            max_instances=1,
            coalesce=True,
        )
        self._remove_listener = timer_wakeups.on_timer_stored(self.ctx, self.wake_for)
        log.info("timer scheduler %s started, %d fire thread(s)", self.name, self.fire_threads)
        self._scheduler.start()  # returns at shutdown when blocking

    def shutdown(self, wait: bool = True) -> None:
        self._stopping = True
        self._remove_listener()
        if self._scheduler.running:
            self._scheduler.shutdown(wait=wait)

    @property
    def running(self) -> bool:
        return self._scheduler.running

    # --- waking -----------------------------------------------------------------------------

    def wake(self) -> None:
        """Look for due timers now (after the clock was moved, or on an admin's request)."""
        self.wake_for(self.ctx.now())

    def wake_for(self, due_at: datetime) -> None:
        """Make sure the job runs just after `due_at` (on the context's clock)."""
        with self._lock:
            if self._running:
                self._again = True  # the running pass will look again before it sleeps
                return
        self._arm(due_at)

    def _arm(self, due_at: datetime) -> None:
        # One-shot wake-up jobs with their own ids: re-timing the poll job instead would race
        # with APScheduler computing that job's next run after a pass.
        if self._stopping or not self._scheduler.running:
            return
        wall = datetime.now(UTC) + max(due_at - self.ctx.now(), timedelta(0)) + _AFTER_DUE
        with self._lock:
            if any(pending <= wall for pending in self._wakeups.values()):
                return  # an earlier pass is already planned and will see this timer
            job_id = f"{WAKE_JOB_PREFIX}{uuid.uuid4().hex}"
            self._wakeups[job_id] = wall
        self._scheduler.add_job(
            self._run_woken,
            DateTrigger(wall, timezone=UTC),
            args=[job_id],
            id=job_id,
            misfire_grace_time=None,
        )

    @property
    def next_run_time(self) -> datetime | None:
        """When the next pass is planned (the poll or the earliest wake-up)."""
        times = [
            job.next_run_time
            for job in self._scheduler.get_jobs()
            if job.next_run_time and job.id != MIGRATION_JOBS_JOB_ID
        ]
        return min(times, default=None)

    # --- the job ----------------------------------------------------------------------------

    def _resume_migration_jobs(self) -> None:
        """Jobs moving instances to another version whose process died go on here."""
        try:
            for job_id in bulk_migration.resume_stalled(self.ctx):
                log.warning("timer scheduler %s: took over migration job %s", self.name, job_id)
        except Exception:
            log.exception("timer scheduler %s: looking for stalled migration jobs failed", self.name)

    def _run_woken(self, job_id: str) -> None:
        with self._lock:
            self._wakeups.pop(job_id, None)
        self._run()

    def _run(self) -> None:
        with self._lock:
            self._running = True
        try:
            while True:
                with self._lock:
                    self._again = False
                calendar_transfers.refresh_calendar(self.ctx)  # an administrator's new transfers
                self.started += timer_starts.run_due(self.ctx)
                self.started += rotation.run_due(self.ctx)  # the Deputy Chairmen's terms
                self.fired += timers.run_due(
                    self.ctx,
                    self.name,
                    lease=self.lease,
                    batch_size=self.batch_size,
                    should_stop=lambda: self._stopping,
                    threads=self.fire_threads,
                )
                wakeups = [
                    timers.next_wakeup(self.ctx),
                    timer_starts.next_due(self.ctx),
                    rotation.next_due(self.ctx),
                ]
                next_at = min((w for w in wakeups if w is not None), default=None)
                with self._lock:
                    self.passes += 1
                    if not self._again or self._stopping:
                        self._running = False
                        break
        except Exception:
            with self._lock:
                self._running = False
            log.exception("timer scheduler %s: pass failed", self.name)
            return
        # A timer due exactly now is not due yet for the engine: leave it to the next poll or
        # wake() rather than spin on a clock that does not move.
        if next_at is not None and next_at > self.ctx.now():
            self._arm(next_at)
