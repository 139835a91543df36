"""`python -m bench.operations`: operating instances at scale, in process (no HTTP server).

1. The instances page: 100,000 instances (`--instances`) seeded straight into the real tables (four
   statuses, a business key each, two searchable values each, created over a year), then GET
   /instances through the Flask test client, signed in as an administrator, for each filter:
   p50/p95 in ms of `--requests` requests (target p95 <= 100 ms).
2. Moving instances: `--migrate` instances of the approval fixture waiting at their review, moved
   to a version that adds a step, by one bulk job (each instance in its own transaction);
   instances/s, against raw SpiffWorkflow's diff and migrate of the same workflows in memory in the
   same run (target >= 50/s).

SQLite always; PostgreSQL too when `postgresql+psycopg://postgres@127.0.0.1:5432/bench` answers (its
schema `public` is dropped). Writes bench/results/operations.json. Nothing is asserted on time.

    .venv/bin/python -m bench.operations                 # about 2 minutes
    .venv/bin/python -m bench.operations --instances 20000 --requests 50 --migrate 100   # smoke run
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from .server import DEFAULT_PG_URL, on_each_database
from .stats import summarize_ms

ROOT = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).with_name("results")
STATUSES = ("running", "complete", "cancelled", "error")
FILTERS = {
    "no filter": "",
    "status": "status=error",
    "process and version": "model_id=approval&version=1",
    "started by": "started_by=clerk07",
    "started between": "started_from=2026-03-01&started_to=2026-03-07",
    "ended between": "ended_from=2026-05-01&ended_to=2026-05-31",
    "business key": "business_key=REG-077777",
    "searchable value": "field=applicant&value=Applicant 4242",
    "oldest first": "sort=oldest",
}


def _app(url: str, clock: Any = None) -> Any:
    from app import create_app
    from app.db.migrate import upgrade
    from app.db.session import make_engine
    from app.settings import Settings

    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    settings = Settings(database_url=url, secret_key="bench-operations", bpmn_dir=ROOT / "bpmn")
    return create_app(settings, clock=clock)


def _deploy(ctx: Any, variant: str) -> int:
    from app.services.modelling import deployments
    from app.services.people.users import SYSTEM
    from tests.services.test_migration import approval_files

    return deployments.deploy(ctx, SYSTEM, approval_files(variant)).version


def seed(ctx: Any, total: int) -> float:
    """`total` instances of approval version 1, inserted in bulk; seconds taken."""
    from sqlalchemy import insert, select

    from app.db.models import InstanceValue, ProcessInstance, ProcessVersion

    started = time.perf_counter()
    rng = random.Random(20261207)
    base = datetime(2026, 1, 1, tzinfo=UTC)
    with ctx.uow(write=True) as uow:
        version_id = uow.session.scalar(
            select(ProcessVersion.id).where(ProcessVersion.model_id == "approval")
        )
        connection = uow.session.connection()
        for start in range(0, total, 5000):
            rows, values = [], []
            for n in range(start, min(total, start + 5000)):
                created = base + timedelta(minutes=5 * n)
                status = STATUSES[rng.randrange(4)]
                rows.append(
                    {
                        "id": n + 1, "model_id": "approval", "version_id": version_id, "status": status,
                        "state_json": "{}", "data": {"n": n}, "element_states": {},
                        "started_by": f"clerk{n % 50:02d}",
                        "business_key": f"REG-{n:06d}", "created_at": created,
                        "updated_at": (updated := created + timedelta(days=rng.randrange(60))),
                        "ended_at": updated if status in ("complete", "cancelled") else None,
                        "row_version": 1,
                    }
                )  # fmt: skip
                values += [
                    {"instance_id": n + 1, "name": "applicant", "value": f"Applicant {n % 10000}"},
                    {"instance_id": n + 1, "name": "region", "value": f"Region {n % 17}"},
                ]
            connection.execute(insert(ProcessInstance.__table__), rows)
            connection.execute(insert(InstanceValue.__table__), values)
        if connection.dialect.name == "postgresql":  # the ids were given: move the sequence past them
            connection.exec_driver_sql(
                "SELECT setval(pg_get_serial_sequence('process_instances', 'id'), "
                "(SELECT max(id) FROM process_instances))"
            )
        uow.commit()
    return time.perf_counter() - started


def signed_in_timings(app: Any, paths: dict[str, str], requests: int, warmup: int) -> dict[str, Any]:
    """p50/p95... of `requests` GETs of each path through the Flask test client, signed in as the
    benchmark's administrator, after `warmup` untimed ones; any answer but 200 stops the run."""
    from tests.web.conftest import Browser

    client = Browser(app.test_client())
    client.login("admin", "bench-password-1")
    timings: dict[str, Any] = {}
    for name, path in paths.items():
        samples = []
        for i in range(requests + warmup):
            began = time.perf_counter()
            response = client.get(path)
            elapsed = time.perf_counter() - began
            if response.status_code != 200:
                raise RuntimeError(f"{path} answered {response.status_code}")
            if i >= warmup:
                samples.append(elapsed)
        timings[name] = summarize_ms(samples)
    return timings


def time_migration(app: Any, count: int) -> dict[str, Any]:
    from app.engine import migration as engine_migration
    from app.engine.serializer import load_state
    from app.services.modelling.deployments import specs_by_id
    from app.services.people.users import SYSTEM, actor_for
    from app.services.running import bulk_migration, instances

    ctx = app.extensions["services"]
    old = _deploy(ctx, "v1")
    ids = [
        instances.start_instance(ctx, SYSTEM, "approval", {"subject": f"M{n}", "divisor": 4})["id"]
        for n in range(count)
    ]
    new = _deploy(ctx, "added_after")
    with ctx.uow() as uow:
        from sqlalchemy import select

        from app.db.models import ProcessInstance, ProcessVersion

        states = list(
            uow.session.scalars(select(ProcessInstance.state_json).where(ProcessInstance.id.in_(ids)))
        )
        old_id, new_id = (
            uow.session.scalar(
                select(ProcessVersion.id).where(
                    ProcessVersion.model_id == "approval", ProcessVersion.version == v
                )
            )
            for v in (old, new)
        )
        old_specs, new_specs = specs_by_id(ctx, uow, old_id), specs_by_id(ctx, uow, new_id)
    began = time.perf_counter()
    for state in states:  # the baseline: the library's own diff and migrate, in memory
        workflow = load_state(state, old_specs)
        engine_migration.plan(workflow, new_specs)
        engine_migration.migrate(workflow, new_specs)
    raw = count / (time.perf_counter() - began)
    admin = actor_for(ctx, "admin")
    began = time.perf_counter()
    job = bulk_migration.run_job(ctx, admin, bulk_migration.create_job(ctx, admin, "approval", old, new))
    served = count / (time.perf_counter() - began)
    return {
        "instances": count,
        "moved": job["moved"],
        "raw_per_s": raw,
        "job_per_s": served,
        "ratio": served / raw,
    }


def run(kind: str, url: str, args: argparse.Namespace) -> dict[str, Any]:
    from app.services.people import users

    app = _app(url)
    ctx = app.extensions["services"]
    users.create_user(
        ctx, users.SYSTEM, username="admin", password="bench-password-1", groups=["admins"], language="en"
    )
    users.ensure_groups(ctx, {"reviewers": "Reviewers"})
    _deploy(ctx, "review_removed")  # version 1: the seeded instances' (no job moves them)
    seconds = seed(ctx, args.instances)
    print(f"[{kind}] seeded {args.instances} instances in {seconds:.1f} s", flush=True)
    page = signed_in_timings(app, {n: f"/instances?{q}" for n, q in FILTERS.items()}, args.requests, 5)
    moved = time_migration(app, args.migrate)
    app.extensions["db_engine"].dispose()
    return {"seed_seconds": seconds, "instances_page": page, "migration": moved}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.operations", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    parser.add_argument("--instances", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--migrate", type=int, default=300)
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL)
    args = parser.parse_args(argv)
    report = on_each_database("operations.sqlite3", lambda kind, url: run(kind, url, args), args.pg_url)
    print(f"\nInstances page (GET /instances, 50 rows), {args.instances:,} instances; target p95 <= 100 ms")
    print(f"{'database':<11} {'filter':<22} {'p50 ms':>8} {'p95 ms':>8}")
    for kind, result in report.items():
        for name, stats in result["instances_page"].items():
            print(f"{kind:<11} {name:<22} {stats['p50_ms']:>8.1f} {stats['p95_ms']:>8.1f}")
    print(f"\nBulk migration of {args.migrate} waiting instances; target >= 50/s")
    for kind, result in report.items():
        m = result["migration"]
        rates = f"raw spiff {m['raw_per_s']:>7.1f}/s  job {m['job_per_s']:>7.1f}/s"
        print(f"{kind:<11} {rates}  ratio {m['ratio']:.3f}")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "operations.json").write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
