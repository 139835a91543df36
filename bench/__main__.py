"""`python -m bench`: throughput and inbox benchmarks through a real server, with baselines.

Examples:
    .venv/bin/python -m bench                         # both databases, defaults (about 2-3 minutes)
    .venv/bin/python -m bench --quick                 # a smoke run (about 30 seconds)
    .venv/bin/python -m bench --database sqlite --instances 1000 --profile
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
import time
import traceback
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from .inbox import PAGE_SIZE, seed, time_inbox, time_inbox_page
from .server import DEFAULT_PG_URL, Database, Server, postgres_reachable
from .throughput import measure, prepare_world

RESULTS_DIR = Path(__file__).with_name("results")
RATIO_TARGET = 1 / 3
P95_TARGET_MS = 50.0
PAGE_P95_TARGET_MS = 100.0  # the web inbox page (server-rendered)
DEFAULTS = {"instances": 1500, "tasks": 100_000, "requests": 200}
QUICK = {"instances": 50, "tasks": 20_000, "requests": 50}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--instances", type=int, help="instances per throughput run (default 1500; quick 50)")
    parser.add_argument(
        "--threads",
        type=int,
        default=8,
        help="client threads of the concurrent run (default 8: enough requests in flight to keep "
        "every server process busy, also while PostgreSQL answers)",
    )
    parser.add_argument(
        "--tasks", type=int, help="open human tasks seeded for the inbox (default 100000; quick 20000)"
    )
    parser.add_argument("--requests", type=int, help="timed requests per inbox query (default 200; quick 50)")
    parser.add_argument(
        "--database",
        choices=("sqlite", "postgresql", "both"),
        default="both",
        help="both skips PostgreSQL (with a note) when it is not reachable",
    )
    parser.add_argument(
        "--pg-url",
        default=os.environ.get("BENCH_PG_URL", DEFAULT_PG_URL),
        help="PostgreSQL URL; its schema `public` is DROPPED and recreated (default %(default)s)",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=5,
        help="interleaved rounds of raw / API 1 client / API N clients over the instances (default 5)",
    )
    parser.add_argument("--quick", action="store_true", help="small sizes for a smoke run")
    parser.add_argument(
        "--skip",
        choices=("throughput", "inbox"),
        action="append",
        default=[],
        help="leave a part out (repeatable)",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="also profile the throughput workload and the inbox page in-process with cProfile",
    )
    parser.add_argument(
        "--server-threads",
        type=int,
        default=None,
        help="request threads per server process (`serve --threads`); default: 1 on SQLite, whose "
        "writers take turns on the whole database (a writer that shares its process's interpreter "
        "with other threads holds the database longer), 4 on PostgreSQL",
    )
    parser.add_argument(
        "--server-workers",
        type=int,
        default=None,
        help=f"server processes (`serve --workers`); default: one per CPU ({os.cpu_count()} here)",
    )
    parser.add_argument("--output", type=Path, default=RESULTS_DIR / "latest.json")
    parser.add_argument(
        "--keep", action="store_true", help="keep the temporary folder (databases, server logs)"
    )
    args = parser.parse_args(argv)
    sizes = QUICK if args.quick else DEFAULTS
    for key, value in sizes.items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    return args


def _version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def environment(pg_version: str | None) -> dict[str, Any]:
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "packages": {n: _version(n) for n in ("SpiffWorkflow", "SQLAlchemy", "Flask", "granian", "psycopg")},
        "postgresql_server": pg_version,
    }


def _pg_version(url: str) -> str | None:
    try:
        from sqlalchemy import create_engine, text

        engine = create_engine(url)
        try:
            with engine.connect() as conn:
                return str(conn.execute(text("SHOW server_version")).scalar())
        finally:
            engine.dispose()
    except Exception:
        return None


def load_average() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def run_database(kind: str, args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    result: dict[str, Any] = {"database": kind, "load_average_at_start": load_average()}
    busy = result["load_average_at_start"]
    if busy and busy[0] > 0.75 * (os.cpu_count() or 1):
        args.notes.append(
            f"{kind}: the machine was busy (1-minute load {busy[0]} on {os.cpu_count()} CPUs): absolute "
            "rates are noisy; the per-round ratios are the steadier figure"
        )
    database = Database.fresh(kind, workdir / kind, args.pg_url)
    log(f"{kind}: python -m app setup --no-demo")
    result["setup"] = database.setup()
    workers = args.server_workers or os.cpu_count() or 1
    threads = args.server_threads or (1 if kind == "sqlite" else 4)
    result["server"] = {"workers": workers, "threads": threads}
    with Server(database, threads=threads, workers=workers) as server:
        log(f"{kind}: server on 127.0.0.1:{server.port}")
        if "throughput" not in args.skip:
            world = prepare_world(server, database.admin_password)
            log(f"{kind}: deployed {world.deploy}")
            measured = measure(
                server,
                world.user_token,
                args.instances,
                args.threads,
                args.rounds,
                log=lambda m: log(f"{kind}: {m}"),
            )
            result["load_average_after_throughput"] = load_average()
            ratio = measured["api_1_client"]["ratio_to_raw"]
            result["throughput"] = {
                **measured,
                "ratio_is": "median over rounds of (API rate / raw SpiffWorkflow rate of the same round)",
                "target": f"ratio >= 1/3 ({RATIO_TARGET:.3f})",
                "target_met_1_client": ratio >= RATIO_TARGET,
                f"target_met_{args.threads}_clients": measured[f"api_{args.threads}_clients"]["ratio_to_raw"]
                >= RATIO_TARGET,
            }
            if args.profile:
                from .profiling import profile_instances

                log(f"{kind}: profiling {args.instances} instances in-process ...")
                result["profile"] = profile_instances(
                    database.url, database.secret_key, args.instances, RESULTS_DIR / f"profile-{kind}.txt"
                )
        if "inbox" not in args.skip:
            log(f"{kind}: seeding {args.tasks:,} open human tasks ...")
            seeded = seed(database.url, args.tasks)
            log(f"{kind}: seeded in {seeded['seconds_with_analyze']}s; timing GET /api/v1/tasks ...")
            timings = time_inbox(server, args.requests)
            result["inbox"] = {"seed": seeded, **timings, "target": f"p95 <= {P95_TARGET_MS:.0f} ms"}
            log(f"{kind}: web sign-in; timing GET /inbox (the page) ...")
            page = time_inbox_page(server, args.requests)
            result["inbox_page"] = {
                **page,
                "target": f"p95 <= {PAGE_P95_TARGET_MS:.0f} ms",
                "target_met": all(page[v]["p95_ms"] <= PAGE_P95_TARGET_MS for v in ("available", "mine")),
            }
            if args.profile:
                from .profiling import profile_inbox_page

                log(f"{kind}: profiling the inbox page in-process ...")
                result["inbox_page"]["profile"] = profile_inbox_page(
                    database.url, database.secret_key, args.requests, RESULTS_DIR, kind
                )
    return result


def fmt(value: Any, digits: int = 1) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def print_table(report: dict[str, Any], args: argparse.Namespace) -> None:
    dbs = report["databases"]
    print()
    print(
        f"Throughput: {args.instances} instances of bench/one_task.bpmn, each started and its task completed "
        f"(2 HTTP requests), in {args.rounds} interleaved rounds;\nratio = median over rounds of "
        f"API/raw; target ratio >= 1/3; server processes x threads: "
        + ", ".join(
            f"{kind} {res.get('server', {}).get('workers', '-')}x{res.get('server', {}).get('threads', '-')}"
            for kind, res in dbs.items()
        )
    )
    header = (
        f"{'database':<11}{'raw spiff/s':>12}{'API 1 cl/s':>12}{'ratio':>8}{'target':>8}"
        f"{f'API {args.threads} cl/s':>13}{'ratio':>8}{'target':>8}{'start p50':>11}{'compl p50':>11}"
    )
    print(header)
    print("-" * len(header))
    for kind, res in dbs.items():
        tp = res.get("throughput")
        if not tp:
            print(f"{kind:<11}{res.get('error', 'skipped')}")
            continue
        one, many = tp["api_1_client"], tp[f"api_{args.threads}_clients"]
        print(
            f"{kind:<11}{fmt(tp['raw_spiff']['instances_per_s']):>12}{fmt(one['instances_per_s']):>12}"
            f"{fmt(one['ratio_to_raw'], 3):>8}{'met' if tp['target_met_1_client'] else 'NOT met':>8}"
            f"{fmt(many['instances_per_s']):>13}{fmt(many['ratio_to_raw'], 3):>8}"
            f"{'met' if tp[f'target_met_{args.threads}_clients'] else 'NOT met':>8}"
            f"{fmt(one['start_request']['p50_ms'], 2) + ' ms':>11}"
            f"{fmt(one['complete_request']['p50_ms'], 2) + ' ms':>11}"
        )
    print()
    print(
        f"Inbox: {args.tasks:,} open tasks; the user sees 1,000 available and 50 claimed; "
        f"{args.requests} sequential requests each; target p95 <= {P95_TARGET_MS:.0f} ms"
    )
    header = f"{'database':<11}{'query':<34}{'rows':>6}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'target':>9}"
    print(header)
    print("-" * len(header))
    for kind, res in dbs.items():
        inbox = res.get("inbox")
        if not inbox:
            print(f"{kind:<11}{res.get('error', 'skipped')}")
            continue
        for name in ("available", "mine", "available_limit_1000"):
            row = inbox[name]
            query = row["path"].removeprefix("/api/v1")
            met = "met" if row["p95_ms"] <= P95_TARGET_MS else "NOT met"
            print(
                f"{kind:<11}{query:<34}{row['rows_returned']:>6}{fmt(row['p50_ms'], 2):>9}"
                f"{fmt(row['p95_ms'], 2):>9}{fmt(row['p99_ms'], 2):>9}{met:>9}"
            )
        totals = inbox["total_visible"]
        print(
            f"{'':<11}(paged totals: available={totals['available']}, mine={totals['mine']}; "
            f"default page size {inbox['default_page_size']}, max limit 1000)"
        )
    print()
    print(
        f"Inbox page: GET /inbox (server-rendered, {PAGE_SIZE} rows a page) after the web sign-in, same "
        f"user and tasks;\n{args.requests} sequential requests each; 'shown' is the task count on the page; "
        f"target p95 <= {PAGE_P95_TARGET_MS:.0f} ms"
    )
    header = (
        f"{'database':<11}{'page':<28}{'rows':>6}{'shown':>7}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}"
        f"{'target':>9}"
    )
    print(header)
    print("-" * len(header))
    for kind, res in dbs.items():
        page = res.get("inbox_page")
        if not page:
            print(f"{kind:<11}{res.get('error', 'skipped')}")
            continue
        for name in ("available", "mine"):
            row = page[name]
            met = "met" if row["p95_ms"] <= PAGE_P95_TARGET_MS else "NOT met"
            print(
                f"{kind:<11}{row['path']:<28}{row['rows_on_page']:>6}{row['count_shown']:>7}"
                f"{fmt(row['p50_ms'], 2):>9}{fmt(row['p95_ms'], 2):>9}{fmt(row['p99_ms'], 2):>9}{met:>9}"
            )
        for name, prof in page.get("profile", {}).items():
            view, top = prof["top_cumulative"][:2]
            print(
                f"{'':<11}(profile {name}: {prof['in_process_ms_per_request']} ms/request in-process; "
                f"under cProfile {top['function']} {top['cum_ms_per_request']} ms\n{'':<11} of "
                f"{view['function']} {view['cum_ms_per_request']} ms; report {prof['report']})"
            )
    for note in report["notes"]:
        print(f"note: {note}")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.perf_counter()
    kinds = ["sqlite", "postgresql"] if args.database == "both" else [args.database]
    notes: list[str] = []
    args.notes = notes
    if "postgresql" in kinds:
        reason = postgres_reachable(args.pg_url)
        if reason:
            if args.database == "postgresql":
                print(f"PostgreSQL is not reachable at {args.pg_url}: {reason}", file=sys.stderr)
                return 2
            kinds.remove("postgresql")
            notes.append(f"PostgreSQL skipped: not reachable at {args.pg_url} ({reason})")
    report: dict[str, Any] = {
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": " ".join(["python", "-m", "bench", *(sys.argv[1:] if argv is None else argv)]),
        "options": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items() if k != "notes"},
        "environment": environment(_pg_version(args.pg_url) if "postgresql" in kinds else None),
        "targets": {
            "throughput_ratio_min": RATIO_TARGET,
            "inbox_p95_ms_max": P95_TARGET_MS,
            "inbox_page_p95_ms_max": PAGE_P95_TARGET_MS,
        },
        "databases": {},
        "notes": notes,
    }
    workdir = Path(tempfile.mkdtemp(prefix="bench-"))
    failed = False
    try:
        for kind in kinds:
            try:
                report["databases"][kind] = run_database(kind, args, workdir)
            except Exception as exc:
                failed = True
                traceback.print_exc()
                report["databases"][kind] = {"database": kind, "error": f"{type(exc).__name__}: {exc}"}
    finally:
        if args.keep or failed:
            notes.append(f"temporary files (databases, server logs) kept in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    report["seconds"] = round(time.perf_counter() - started, 1)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    print_table(report, args)
    print(f"\nresults: {args.output} ({report['seconds']} s)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
