"""The world `python -m bench.scheduler` measures: a fresh PostgreSQL schema with the one-timer
model deployed, instances seeded in bulk, `python -m app scheduler run` processes, and what they
fired (from the audit log)."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.engine import Engine

from .server import reset_postgres

PROJECT_ROOT = Path(__file__).resolve().parent.parent
BPMN = Path(__file__).with_name("timer_bench.bpmn")
MODEL_ID = "timer_bench"
SECRET_KEY = "bench-scheduler"


# --- database ---------------------------------------------------------------------------------


def fresh_context(url: str):
    """Drop and recreate schema public, migrate, deploy the one-timer model; (ctx, engine)."""
    from app.db.migrate import upgrade
    from app.db.session import make_engine, make_session_factory
    from app.services.context import ServiceContext
    from app.services.modelling import deployments
    from app.services.people.users import SYSTEM
    from app.settings import Settings

    reset_postgres(url)
    engine = make_engine(url)
    upgrade(engine)
    ctx = ServiceContext(make_session_factory(engine), Settings(database_url=url, secret_key=SECRET_KEY))
    deployments.deploy(ctx, SYSTEM, {BPMN.name: BPMN.read_bytes()})
    return ctx, engine


def start_one(ctx, due: datetime) -> int:
    from app.services.people.users import SYSTEM
    from app.services.running import instances

    return instances.start_instance(ctx, SYSTEM, MODEL_ID, {"due": due.isoformat()})["id"]


def seed(ctx, engine: Engine, count: int, due: datetime) -> float:
    """`count` instances waiting on one timer due at `due`: one started through the services,
    the others copied in SQL with their task ids replaced consistently. Returns seconds taken."""
    started = time.perf_counter()
    first = start_one(ctx, due)
    with engine.begin() as conn:
        state = conn.execute(text("SELECT state_json FROM process_instances WHERE id = :i"), {"i": first})
        task_ids = sorted(json.loads(state.scalar_one())["tasks"])
        timer_task = conn.execute(
            text("SELECT task_id FROM waiting_timers WHERE instance_id = :i"), {"i": first}
        ).scalar_one()
        columns = (
            "model_id, version_id, status, state_json, data, element_states, started_by, created_at, "
            "updated_at, row_version"
        )
        conn.execute(
            text(
                f"INSERT INTO process_instances ({columns}) SELECT {columns} "
                "FROM process_instances, generate_series(2, :n) WHERE id = :first"
            ),
            {"n": count, "first": first},
        )
        # A new task id per instance: md5(old id : instance id) as a UUID, in the state and the timer row.
        expression = "state_json"
        params: dict[str, Any] = {"first": first}
        for k, task_id in enumerate(task_ids):
            expression = f"replace({expression}, :t{k}, md5(:t{k} || ':' || id::text)::uuid::text)"
            params[f"t{k}"] = task_id
        conn.execute(
            text(f"UPDATE process_instances SET state_json = {expression} WHERE id <> :first"), params
        )
        conn.execute(
            text(
                "INSERT INTO waiting_timers (instance_id, task_id, element_id, due_at) "
                "SELECT p.id, md5(:tid || ':' || p.id::text)::uuid::text, t.element_id, t.due_at "
                "FROM process_instances p JOIN waiting_timers t ON t.instance_id = :first "
                "WHERE p.id <> :first"
            ),
            {"tid": timer_task, "first": first},
        )
        conn.execute(text("ANALYZE process_instances"))
        conn.execute(text("ANALYZE waiting_timers"))
    return time.perf_counter() - started


# --- scheduler processes ----------------------------------------------------------------------


class SchedulerProcess:
    def __init__(self, url: str, log_path: Path, *args: str) -> None:
        env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": SECRET_KEY, "PYTHONUNBUFFERED": "1"}
        self.log_path = log_path
        self._log = log_path.open("w")
        self.args = ["scheduler", "run", *args]
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "app", *self.args],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    def wait_running(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while " running" not in self.log_path.read_text():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"scheduler did not start:\n{self.log_path.read_text()[-2000:]}")
            time.sleep(0.05)

    @property
    def fire_threads(self) -> int | None:
        """The fire threads the scheduler said it runs with (its "running" line)."""
        found = re.search(r" running, (\d+) fire thread", self.log_path.read_text())
        return int(found.group(1)) if found else None

    def stop(self) -> str:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()
        return self.log_path.read_text()


def fired_count(engine: Engine) -> int:
    with engine.connect() as conn:
        return conn.execute(text("SELECT count(*) FROM audit_log WHERE action = 'timer.fired'")).scalar_one()


def fired_records(engine: Engine) -> list[tuple[int, datetime, dict[str, Any]]]:
    from app.db.models import AuditRecord

    query = (
        select(AuditRecord.instance_id, AuditRecord.at, AuditRecord.details)
        .where(AuditRecord.action == "timer.fired")
        .order_by(AuditRecord.at)
    )
    with engine.connect() as conn:
        return [tuple(row) for row in conn.execute(query)]
