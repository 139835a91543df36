"""Timers: claim the due ones, fire each in its own transaction, list, fire now, move.

Work is found from the stored due times (`waiting_timers`), never by loading instances. A
scheduler claims a batch of due timers with a lease (`claimed_by`, `claim_expires_at`; on
PostgreSQL with SELECT ... FOR UPDATE SKIP LOCKED, so several schedulers take disjoint
batches), commits, then fires each claimed timer under its instance's row lock after checking
that the row still exists and is still claimed by it. Firing saves the instance, which deletes
or replaces the fired row, so a timer fires once even when a lease ran out and another
scheduler claimed it again. A scheduler killed mid-batch loses nothing: its leases expire.

On PostgreSQL the claims of a batch are fired by several threads (`fire_threads`), whose
database round trips overlap. The claims of one instance go to one thread, in due order; the
instance row lock keeps firing exactly-once across threads and processes anyway; the firings'
audit records and commits take turns in due order (`_DueOrder`), so a backlog still fires
oldest first.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, make_url, or_, select

from ...db.models import WaitingTimer
from ..context import ServiceContext
from .timer_firing import Claim, fire_claimed

log = logging.getLogger(__name__)

DEFAULT_LEASE = timedelta(seconds=60)
DEFAULT_BATCH = 100
# Firing threads on PostgreSQL when the settings do not say: while one firing waits for the
# database (the GIL released), another runs the engine. Measured: ~170 timers/s with one thread,
# ~250 with four; more gains nothing, the process being then bound by its CPU.
DEFAULT_FIRE_THREADS_POSTGRESQL = 4


# --- claiming and firing (the scheduler's use cases) ------------------------------------------


def _claimable(now: datetime):
    return (WaitingTimer.due_at < now) & or_(
        WaitingTimer.claimed_by.is_(None), WaitingTimer.claim_expires_at < now
    )


def claim_due(
    ctx: ServiceContext,
    owner: str,
    *,
    lease: timedelta = DEFAULT_LEASE,
    limit: int = DEFAULT_BATCH,
    look_first: bool = True,
) -> list[Claim]:
    """Claim up to `limit` due timers, oldest first, for `owner` until now + `lease`.

    `look_first=False` skips the read-only look for work, when more is probably due (the
    previous batch was full)."""
    if look_first:
        with ctx.uow() as uow:  # most passes find nothing, and need no write lock
            if uow.session.scalar(select(WaitingTimer.id).where(_claimable(ctx.now())).limit(1)) is None:
                return []
    with ctx.uow(write=True) as uow:
        now = ctx.now()
        query = (
            select(WaitingTimer)
            .where(_claimable(now))
            .order_by(WaitingTimer.due_at, WaitingTimer.id)
            .limit(limit)
        )
        if uow.is_postgresql:
            query = query.with_for_update(skip_locked=True)
        rows = list(uow.session.scalars(query))
        for row in rows:
            row.claimed_by = owner
            row.claim_expires_at = now + lease
        claims = [Claim(r.id, r.instance_id, r.task_id, r.element_id, r.due_at) for r in rows]
        uow.commit()
    return claims


def fire_threads(ctx: ServiceContext, requested: int | None = None) -> int:
    """How many threads fire claims: `requested`, else the settings' `scheduler_fire_threads`,
    else 4 on PostgreSQL; always 1 on SQLite. Its writers take turns on the database's write lock
    for their whole transaction, so threads would only queue, and a firing holding that lock
    while it waits for its due-order turn would hold up the one before it."""
    bind = ctx.session_factory.kw.get("bind")
    if bind is not None:
        backend = bind.dialect.name
    else:
        backend = make_url(ctx.settings.database_url).get_backend_name()
    if backend == "sqlite":
        return 1
    return max(1, requested or ctx.settings.scheduler_fire_threads or DEFAULT_FIRE_THREADS_POSTGRESQL)


class _DueOrder:
    """Concurrent firings record and commit in the order they were handed out, which is due
    order: their loading, engine work and saving overlap, their audit records and commits take
    turns, so missed timers still fire oldest first.

    A firing waits for its turn while holding its instance's row lock. Another scheduler process
    firing an instance of this one's may hold a lock a predecessor needs while it waits for its
    own turn: a wait is therefore bounded, and after it the firing writes out of order rather
    than risk a deadlock no database can see."""

    def __init__(self, max_wait_seconds: float = 2.0) -> None:
        self._max_wait = max_wait_seconds
        self._issued = 0
        self._next = 0
        self._finished: set[int] = set()
        self._condition = threading.Condition()

    def ticket(self) -> int:
        self._issued += 1  # handed out by the one dispatching thread
        return self._issued - 1

    def wait_turn(self, ticket: int) -> None:
        with self._condition:
            if not self._condition.wait_for(lambda: self._next >= ticket, timeout=self._max_wait):
                log.warning("timer firing %s written out of due order after %.1f s", ticket, self._max_wait)

    def finish(self, ticket: int) -> None:
        with self._condition:
            self._finished.add(ticket)
            while self._next in self._finished:
                self._finished.remove(self._next)
                self._next += 1
            self._condition.notify_all()


def _fire_in_order(
    ctx: ServiceContext,
    owner: str,
    claims: list[Claim],
    tickets: list[int],
    order: _DueOrder,
    should_stop: Callable[[], bool],
) -> int:
    """Fire claims one after the other, each writing in its turn (`tickets[i]` for `claims[i]`)."""
    fired = 0
    for claim, ticket in zip(claims, tickets, strict=True):
        try:
            if should_stop():
                continue  # the remaining tickets are finished all the same
            fired += fire_claimed(ctx, owner, claim, lambda t=ticket: order.wait_turn(t))
        except Exception:  # one broken instance must not stop the others
            log.exception("firing timer %s of instance %s failed", claim.id, claim.instance_id)
        finally:
            order.finish(ticket)
    return fired


def _by_instance(claims: list[Claim]) -> list[list[Claim]]:
    """The claims grouped per instance, each group in claim (due) order: the threads firing one
    batch do not queue on each other's instance locks, and an instance's timers fire in due order."""
    groups: dict[int, list[Claim]] = {}
    for claim in claims:
        groups.setdefault(claim.instance_id, []).append(claim)
    return list(groups.values())


def run_due(
    ctx: ServiceContext,
    owner: str,
    *,
    lease: timedelta = DEFAULT_LEASE,
    batch_size: int = DEFAULT_BATCH,
    should_stop: Callable[[], bool] = lambda: False,
    threads: int = 1,
) -> int:
    """Claim and fire batches until nothing is due; the number of timers fired.

    With `threads` > 1 the claims are fired concurrently, one instance's claims of a batch by one
    thread in due order."""
    threads = fire_threads(ctx, threads)  # one on SQLite, whatever was asked
    if threads > 1:
        return _run_concurrently(ctx, owner, lease, batch_size, should_stop, threads)
    total = 0
    look_first = True
    while not should_stop():
        claims = claim_due(ctx, owner, lease=lease, limit=batch_size, look_first=look_first)
        if not claims:
            return total
        # A full batch means more is probably due: claim the next one without looking first.
        look_first = len(claims) < batch_size
        order = _DueOrder()  # one thread: every turn has come when it is asked for
        tickets = [order.ticket() for _ in claims]
        total += _fire_in_order(ctx, owner, claims, tickets, order, should_stop)
    return total


def _run_concurrently(
    ctx: ServiceContext,
    owner: str,
    lease: timedelta,
    batch_size: int,
    should_stop: Callable[[], bool],
    threads: int,
) -> int:
    total = 0
    look_first = True
    pending: set[Future[int]] = set()

    def collect(done: set[Future[int]]) -> None:
        nonlocal total
        total += sum(future.result() for future in done)  # _fire_in_order raises nothing

    order = _DueOrder()
    with ThreadPoolExecutor(threads, thread_name_prefix=f"fire-{owner[-8:]}") as pool:
        while not should_stop():
            claims = claim_due(ctx, owner, lease=lease, limit=batch_size, look_first=look_first)
            if not claims:
                if not pending:
                    break
                # What is still firing may store timers already due (a cycle that fell behind):
                # look again once it is done, as the one-thread loop does.
                collect(wait(pending).done)
                pending, look_first = set(), True
                continue
            look_first = len(claims) < batch_size
            tickets = {claim.id: order.ticket() for claim in claims}  # due order across groups
            pending |= {
                pool.submit(_fire_in_order, ctx, owner, g, [tickets[c.id] for c in g], order, should_stop)
                for g in _by_instance(claims)
            }
            # Claim the next batch as soon as nothing of this one is left waiting for a thread, so
            # that no thread idles during the claim, yet no claim waits in a queue for long while
            # its lease runs. An instance of this batch still firing may then get a claim of the
            # next batch on another thread: that thread waits for the instance lock and finds the
            # timer fired or still due, never fired twice.
            while len(pending) > threads:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                collect(done)
        collect(wait(pending).done)
    return total


def next_wakeup(ctx: ServiceContext) -> datetime | None:
    """When there may next be work: the earliest unclaimed due time or lease expiry."""
    with ctx.uow() as uow:
        due = uow.session.scalar(
            select(func.min(WaitingTimer.due_at)).where(WaitingTimer.claimed_by.is_(None))
        )
        expiry = uow.session.scalar(
            select(func.min(func.coalesce(WaitingTimer.claim_expires_at, WaitingTimer.due_at))).where(
                WaitingTimer.claimed_by.is_not(None)
            )
        )
    candidates = [_utc(d) for d in (due, expiry) if d is not None]
    return min(candidates) if candidates else None


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value
