"""`python -m bench.reports`: the reports page over 100,000 finished instances, in process.

Seeds `--instances` completed instances of two processes straight into the real tables (ended over
the last 26 weeks, their completion times and those of two user tasks each), 2,000 open tasks (a quarter
overdue), then, signed in as an administrator through the Flask test client:
- GET /reports for the default twelve weeks and for all 26 weeks, and each CSV download: p50/p95 in
  ms of `--requests` requests (target: the page under 500 ms);
- the baseline, in the same run: the same weekly counts and process cycle times computed the
  naive way, by reading every instance of the period's timestamps and counting in Python.

SQLite always; PostgreSQL too when `postgresql+psycopg://postgres@127.0.0.1:5432/bench` answers (its
schema `public` is dropped). Writes bench/results/reports.json. Nothing is asserted on time.

    .venv/bin/python -m bench.reports                    # about 1 minute
    .venv/bin/python -m bench.reports --instances 20000 --requests 10   # smoke run
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from datetime import UTC, date, datetime, timedelta
from typing import Any

from .operations import RESULTS, _app, signed_in_timings
from .server import DEFAULT_PG_URL, on_each_database
from .stats import summarize_ms

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
PAGES = {
    "page, 12 weeks": "/reports?to=2026-12-07",
    "page, 26 weeks": "/reports?from=2026-06-08&to=2026-12-07",
    "weeks.csv, 26 weeks": "/reports/weeks.csv?from=2026-06-08&to=2026-12-07",
    "cycle-times.csv, 26 weeks": "/reports/cycle-times.csv?from=2026-06-08&to=2026-12-07",
    "open-tasks.csv": "/reports/open-tasks.csv",
    "overdue.csv": "/reports/overdue.csv",
}


def seed(ctx: Any, total: int) -> float:
    from sqlalchemy import insert, select

    from app.db.models import CompletionTime, HumanTask, ProcessInstance, ProcessVersion, bucket_of

    began = time.perf_counter()
    rng = random.Random(20261207)
    with ctx.uow(write=True) as uow:
        versions = dict(uow.session.execute(select(ProcessVersion.model_id, ProcessVersion.id)).all())
        connection = uow.session.connection()
        for start in range(0, total, 5000):
            instances, closed = [], []
            for n in range(start, min(total, start + 5000)):
                model_id = ("approval", "bench_one_task")[n % 2]
                ended = NOW - timedelta(minutes=rng.randrange(26 * 7 * 24 * 60))
                created = ended - timedelta(minutes=rng.randrange(1, 30 * 24 * 60))
                instances.append(
                    {
                        "id": n + 1, "model_id": model_id, "version_id": versions[model_id],
                        "status": "complete", "state_json": "{}", "data": {}, "element_states": {},
                        "started_by": "clerk", "created_at": created, "updated_at": ended,
                        "ended_at": ended, "row_version": 1,
                    }
                )  # fmt: skip
                middle = created + (ended - created) / 2
                for element_id, opened, done in ((None, created, ended), ("Task_0", created, middle),
                                                ("Task_1", middle, ended)):  # fmt: skip
                    seconds = round((done - opened).total_seconds())
                    closed.append(
                        {
                            "instance_id": n + 1, "model_id": model_id, "element_id": element_id,
                            "completed_at": done, "seconds": seconds, "bucket": bucket_of(seconds),
                        }
                    )  # fmt: skip
            connection.execute(insert(ProcessInstance.__table__), instances)
            connection.execute(insert(CompletionTime.__table__), closed)
        open_rows = [
            {
                "id": f"open-{n:06d}", "instance_id": n + 1, "model_id": "approval",
                "element_id": "Task_Review", "name": "Review", "titles": {"en": "Review"},
                "lane": "reviewers", "group_name": "reviewers", "reserved": False, "instruction_texts": {},
                "created_at": NOW - timedelta(hours=rng.randrange(24 * 60)),
                "due_at": NOW + timedelta(days=rng.randrange(-10, 30)),
            }
            for n in range(2000)
        ]  # fmt: skip
        connection.execute(insert(HumanTask.__table__), open_rows)
        uow.commit()
    return time.perf_counter() - began


def time_naive(app: Any, requests: int) -> dict[str, Any]:
    """The same weekly counts and process cycle times, from every instance's row of the period."""
    from sqlalchemy import select

    from app.db.models import ProcessInstance as I  # noqa: N814

    ctx = app.extensions["services"]
    start = datetime(2026, 6, 8, tzinfo=UTC) - timedelta(hours=5)
    samples = []
    for _ in range(max(3, requests // 4)):
        began = time.perf_counter()
        with ctx.uow() as uow:
            rows = uow.session.execute(
                select(I.model_id, I.created_at, I.ended_at).where(
                    I.ended_at >= start, I.status == "complete"
                )
            ).all()
        weeks: dict[tuple[str, date], int] = {}
        times: dict[str, list[float]] = {}
        for model_id, created, ended in rows:
            local = (ended + timedelta(hours=5)).date()
            monday = local - timedelta(days=local.weekday())
            weeks[(model_id, monday)] = weeks.get((model_id, monday), 0) + 1
            times.setdefault(model_id, []).append((ended - created).total_seconds())
        {m: (statistics.median(v), statistics.quantiles(v, n=10)[-1]) for m, v in times.items()}
        samples.append(time.perf_counter() - began)
    return summarize_ms(samples)


def run(kind: str, url: str, args: argparse.Namespace) -> dict[str, Any]:
    from app.engine.clock import ManualClock
    from app.services.modelling import deployments
    from app.services.people import users
    from tests.conftest import APPROVAL, read_fixture

    app = _app(url, clock=ManualClock(NOW))
    ctx = app.extensions["services"]
    users.create_user(
        ctx, users.SYSTEM, username="admin", password="bench-password-1", groups=["admins"], language="en"
    )
    users.ensure_groups(ctx, {"reviewers": "Reviewers", "bench": "Bench"})
    deployments.deploy(ctx, users.SYSTEM, read_fixture(*APPROVAL))
    deployments.deploy(ctx, users.SYSTEM, {"one_task.bpmn": (RESULTS.parent / "one_task.bpmn").read_bytes()})
    seconds = seed(ctx, args.instances)
    if kind == "postgresql":  # as autovacuum leaves a table some minutes after a bulk load
        engine = app.extensions["db_engine"]
        with engine.connect() as connection:
            connection.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("VACUUM ANALYZE")
    print(f"[{kind}] seeded {args.instances} finished instances in {seconds:.1f} s", flush=True)
    pages = signed_in_timings(app, PAGES, args.requests, 2)
    naive = time_naive(app, args.requests)
    app.extensions["db_engine"].dispose()
    return {"seed_seconds": seconds, "pages": pages, "naive_weeks_and_cycles": naive}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.reports", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    parser.add_argument("--instances", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL)
    args = parser.parse_args(argv)
    report = on_each_database("reports.sqlite3", lambda kind, url: run(kind, url, args), args.pg_url)
    print(f"\nReports, {args.instances:,} finished instances; target: the page under 500 ms")
    print(f"{'database':<11} {'request':<27} {'p50 ms':>8} {'p95 ms':>8}")
    for kind, result in report.items():
        for name, stats in result["pages"].items():
            print(f"{kind:<11} {name:<27} {stats['p50_ms']:>8.1f} {stats['p95_ms']:>8.1f}")
        naive = result["naive_weeks_and_cycles"]
        page = result["pages"]["page, 26 weeks"]
        print(f"{kind:<11} {'baseline: naive, 26 weeks':<27} {naive['p50_ms']:>8.1f} {naive['p95_ms']:>8.1f}"
              f"   (whole page / naive two figures: {page['p50_ms'] / naive['p50_ms']:.2f})")  # fmt: skip
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "reports.json").write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
