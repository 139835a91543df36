"""Several scheduler processes against one PostgreSQL database (`python -m app scheduler run`).

The timers are due an hour after START (2026-03-02), long before the subprocesses' system
clock: everything is due as soon as they start.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select, text

from app.db.models import AuditRecord, WaitingTimer
from app.db.session import make_engine, make_session_factory
from app.services.context import ServiceContext
from app.services.people.users import SYSTEM
from app.services.running import instances
from app.settings import Settings
from tests.conftest import FIXTURES, _truncate_postgres
from tests.scheduler.conftest import fired_count, wait_until

pytestmark = pytest.mark.skipif(
    not os.environ.get("TEST_DATABASE_URL"), reason="several schedulers need PostgreSQL (TEST_DATABASE_URL)"
)
PROJECT = Path(__file__).resolve().parents[2]
TIMERS = 1000
KILLED_TIMERS = 400  # enough for a kill in the middle of a batch


@pytest.fixture
def database_url(request: pytest.FixtureRequest) -> str:
    """PostgreSQL only (overrides the SQLite + PostgreSQL parametrisation)."""
    url = request.getfixturevalue("postgres_url")
    _truncate_postgres(url)
    return url


@pytest.fixture
def ctx(database_url, clock) -> Iterator[ServiceContext]:
    settings = Settings(database_url=database_url, secret_key="test", bpmn_dir=FIXTURES, forms_dir=FIXTURES)
    engine = make_engine(database_url)
    yield ServiceContext(make_session_factory(engine), settings, clock=clock)
    engine.dispose()


def _seed(ctx: ServiceContext, count: int) -> None:
    """`count` instances waiting on one timer each: one started, the others copied in SQL."""
    first = instances.start_instance(ctx, SYSTEM, "timer_intermediate", {})["id"]
    columns = (
        "model_id, version_id, status, state_json, data, element_states, started_by, created_at, updated_at"
    )
    with ctx.uow(write=True) as uow:
        uow.session.execute(
            text(
                f"INSERT INTO process_instances ({columns}, row_version) "
                f"SELECT {columns}, row_version FROM process_instances, generate_series(2, :n) "
                "WHERE id = :first"
            ),
            {"n": count, "first": first},
        )
        uow.session.execute(
            text(
                "INSERT INTO waiting_timers (instance_id, task_id, element_id, due_at) "
                "SELECT p.id, t.task_id, t.element_id, t.due_at FROM process_instances p "
                "JOIN waiting_timers t ON t.instance_id = :first WHERE p.id <> :first"
            ),
            {"first": first},
        )
        uow.commit()


def _scheduler(database_url: str, *args: str) -> subprocess.Popen:
    env = {**os.environ, "DATABASE_URL": database_url, "SECRET_KEY": "test"}
    return subprocess.Popen(
        [sys.executable, "-m", "app", "scheduler", "run", *args],
        cwd=PROJECT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _fired_by_instance(ctx: ServiceContext) -> tuple[Counter, Counter]:
    query = select(AuditRecord).where(AuditRecord.action == "timer.fired")
    with ctx.uow() as uow:
        records = [(r.instance_id, r.details["scheduler"]) for r in uow.session.scalars(query)]
    return Counter(i for i, _ in records), Counter(s for _, s in records)


def _remaining(ctx: ServiceContext) -> list[WaitingTimer]:
    with ctx.uow() as uow:
        rows = list(uow.session.scalars(select(WaitingTimer)))
        uow.session.expunge_all()
    return rows


@pytest.fixture
def seeded(ctx, admin, request: pytest.FixtureRequest) -> ServiceContext:
    count = getattr(request, "param", TIMERS)
    _seed(ctx, count)
    assert len(_remaining(ctx)) == count
    return ctx


def test_two_schedulers_fire_a_thousand_due_timers_exactly_once(seeded, database_url):
    ctx = seeded
    started = time.monotonic()
    # Several fire threads in each: the default on PostgreSQL, and one set on the command line.
    procs = [
        _scheduler(database_url, "--once", "--batch", "25", *extra) for extra in ([], ["--fire-threads", "3"])
    ]
    outputs = [p.communicate(timeout=50)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs
    per_instance, per_scheduler = _fired_by_instance(ctx)
    assert len(per_instance) == TIMERS and set(per_instance.values()) == {1}
    assert len(per_scheduler) == 2, (per_scheduler, outputs)  # both took a share
    assert _remaining(ctx) == []
    print(f"{TIMERS} timers by 2 processes in {time.monotonic() - started:.1f} s: {dict(per_scheduler)}")


@pytest.mark.parametrize("seeded", [KILLED_TIMERS], indirect=True)
def test_a_killed_scheduler_loses_nothing_once_its_lease_expires(seeded, database_url):
    ctx = seeded
    first = _scheduler(database_url, "--batch", str(KILLED_TIMERS), "--lease", "3", "--poll", "0.2")
    try:
        wait_until(lambda: fired_count(ctx) >= 50, timeout=30)
    finally:
        first.send_signal(signal.SIGKILL)
        first.communicate(timeout=10)
    leftover = _remaining(ctx)
    assert leftover and all(r.claimed_by for r in leftover)  # claimed by the dead one
    lease_end = max(r.claim_expires_at for r in leftover)
    done_by_first = fired_count(ctx)
    assert done_by_first < KILLED_TIMERS

    second = _scheduler(database_url, "--lease", "3", "--poll", "0.2")
    try:
        wait_until(lambda: fired_count(ctx) >= KILLED_TIMERS, timeout=40)
    finally:
        second.send_signal(signal.SIGTERM)
        output = second.communicate(timeout=20)[0]
    assert second.returncode == 0, output
    per_instance, per_scheduler = _fired_by_instance(ctx)
    assert len(per_instance) == KILLED_TIMERS and set(per_instance.values()) == {1}
    assert len(per_scheduler) == 2 and min(per_scheduler.values()) > 0
    assert _remaining(ctx) == []
    with ctx.uow() as uow:
        taken_over = uow.session.scalar(
            select(AuditRecord.at)
            .where(AuditRecord.action == "timer.fired")
            .order_by(AuditRecord.id)
            .offset(done_by_first)
            .limit(1)
        )
    assert taken_over >= lease_end  # not before the dead scheduler's lease ran out
