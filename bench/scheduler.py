"""`python -m bench.scheduler`: timer scheduler throughput and lateness on PostgreSQL.

1. Throughput: N timers (`--timers`, default 10,000) all due at the same moment shortly in the
   future, fired by one and then two `python -m app scheduler run` processes (a fresh seed
   each): timers fired per second from the first to the last fire (audit `timer.fired` `at`),
   the count per process, and that every instance fired exactly once. Each process fires with
   the app's default number of threads (`SCHEDULER_FIRE_THREADS`, else 4) unless
   `--fire-threads` is given; the number each used is reported.
2. Lateness: one scheduler process (`--poll`, default 0.5 s) on an idle database; this process
   starts single-timer instances through the services, each `--lead` seconds before its due
   time, due times 1-2 s apart: fired `at` minus due time, p50/p99.

Targets: >= 200 timers/s with one process; p99 lateness <= 1 s. The database
(`--pg-url`, default postgresql+psycopg://postgres@127.0.0.1:5432/bench_scheduler) is created
if missing and its schema `public` is DROPPED on every run. Writes bench/results/scheduler.json.

Examples:
    .venv/bin/python -m bench.scheduler                 # 4 minutes at 200 timers/s (6.5 at 70/s)
    .venv/bin/python -m bench.scheduler --quick         # smoke run, 1-2 minutes
    .venv/bin/python -m bench.scheduler --timers 2000 --lateness-timers 20 --profile
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import math
import os
import platform
import pstats
import random
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, func, select, text

from .scheduler_world import SchedulerProcess, fired_count, fired_records, fresh_context, seed, start_one
from .server import ensure_database
from .stats import percentile

RESULTS_DIR = Path(__file__).with_name("results")
DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/bench_scheduler"
RATE_TARGET = 200.0  # timers per second, one process
P99_TARGET_S = 1.0


# --- 1. throughput ----------------------------------------------------------------------------


def run_throughput(args: argparse.Namespace, processes: int, logs: Path) -> dict[str, Any]:
    from app.db.models import ProcessInstance, WaitingTimer

    ctx, engine = fresh_context(args.pg_url)
    try:
        # Seeding takes about 0.2 s per 1,000 timers; the schedulers need a few seconds to start.
        margin = args.seed_margin + processes * 2 + args.timers / 4000
        due = datetime.now(UTC) + timedelta(seconds=margin)
        seed_s = seed(ctx, engine, args.timers, due)
        procs = [
            SchedulerProcess(args.pg_url, logs / f"throughput-{processes}p-{i}.log", *args.scheduler_args)
            for i in range(processes)
        ]
        try:
            for proc in procs:
                proc.wait_running()
            fire_threads = [proc.fire_threads for proc in procs]
            ready_before_due = datetime.now(UTC) < due
            deadline = time.monotonic() + margin + max(args.timeout, args.timers / 20)
            while (done := fired_count(engine)) < args.timers:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"only {done} of {args.timers} timers fired within the timeout")
                if any(p.proc.poll() is not None for p in procs):
                    raise RuntimeError(f"a scheduler exited:\n{procs[0].log_path.read_text()[-2000:]}")
                time.sleep(0.1)
            done_wall = datetime.now(UTC)
        finally:
            outputs = [p.stop() for p in procs]
        records = fired_records(engine)
        per_instance = Counter(r[0] for r in records)
        per_scheduler = Counter(r[2]["scheduler"] for r in records)
        pids = {str(p.proc.pid): p for p in procs}
        per_process = {
            f"pid {name.split(':')[1]}": n
            for name, n in sorted(per_scheduler.items())
            if name.split(":")[1] in pids
        }
        with engine.connect() as conn:
            remaining = conn.execute(select(func.count()).select_from(WaitingTimer)).scalar_one()
            completed = conn.execute(
                select(func.count()).select_from(ProcessInstance).where(ProcessInstance.status == "complete")
            ).scalar_one()
        first, last = records[0][1], records[-1][1]
        span = (last - first).total_seconds()
        return {
            "processes": processes,
            "fire_threads_per_process": fire_threads,
            "timers": args.timers,
            "seed_seconds": round(seed_s, 2),
            "schedulers_ready_before_due": ready_before_due,
            "first_fire_after_due_s": round((first - due).total_seconds(), 3),
            "first_to_last_fire_s": round(span, 3),
            "due_to_last_fire_s": round((last - due).total_seconds(), 3),
            "timers_per_s": round(len(records) / span, 1) if span > 0 else math.inf,
            "timers_per_s_from_due": round(len(records) / (last - due).total_seconds(), 1),
            "detected_all_fired_at_wall_s_after_due": round((done_wall - due).total_seconds(), 3),
            "per_process": per_process,
            "fired_records": len(records),
            "instances_fired": len(per_instance),
            "exactly_once": len(per_instance) == args.timers and set(per_instance.values()) == {1},
            "remaining_waiting_timers": remaining,
            "completed_instances": completed,
            "scheduler_output": [o.strip().splitlines()[-1:] for o in outputs],
        }
    finally:
        engine.dispose()


# --- 2. lateness ------------------------------------------------------------------------------


def run_lateness(args: argparse.Namespace, logs: Path) -> dict[str, Any]:
    ctx, engine = fresh_context(args.pg_url)
    rng = random.Random(2026)
    try:
        proc = SchedulerProcess(
            args.pg_url, logs / "lateness.log", "--poll", str(args.poll), *args.fire_threads_args
        )
        try:
            proc.wait_running()
            fire_threads = proc.fire_threads
            time.sleep(0.5)  # let its first pass finish
            due = datetime.now(UTC) + timedelta(seconds=args.lead + 0.5)
            dues: dict[int, datetime] = {}
            for _ in range(args.lateness_timers):
                pause = (due - timedelta(seconds=args.lead) - datetime.now(UTC)).total_seconds()
                if pause > 0:
                    time.sleep(pause)
                dues[start_one(ctx, due)] = due
                due += timedelta(seconds=rng.uniform(1.0, 2.0))
            deadline = time.monotonic() + max(args.poll, 5.0) + 10
            while fired_count(engine) < len(dues) and time.monotonic() < deadline:
                time.sleep(0.1)
        finally:
            output = proc.stop()
        records = fired_records(engine)
        lateness = [(at - dues[instance_id]).total_seconds() for instance_id, at, _ in records]
        return {
            "timers": len(dues),
            "fire_threads": fire_threads,
            "fired": len(records),
            "poll_s": args.poll,
            "lead_s": args.lead,
            "spacing_s": "uniform 1-2",
            "p50_ms": round(percentile(lateness, 50) * 1000, 1),
            "p99_ms": round(percentile(lateness, 99) * 1000, 1),
            "max_ms": round(max(lateness) * 1000, 1) if lateness else math.nan,
            "min_ms": round(min(lateness) * 1000, 1) if lateness else math.nan,
            "scheduler_output": output.strip().splitlines()[-1:],
        }
    finally:
        engine.dispose()


# --- profile of fire_claimed (in-process) -----------------------------------------------------


def run_profile(args: argparse.Namespace) -> str:
    from app.services.time import timers

    ctx, engine = fresh_context(args.pg_url)
    try:
        count = min(args.timers, 2000)
        due = datetime.now(UTC) + timedelta(seconds=1)
        seed(ctx, engine, count, due)
        time.sleep(max(0.0, (due - datetime.now(UTC)).total_seconds()) + 0.05)
        profiler = cProfile.Profile()
        started = time.perf_counter()
        profiler.enable()
        fired = timers.run_due(ctx, "profiler")
        profiler.disable()
        elapsed = time.perf_counter() - started
        out = io.StringIO()
        out.write(f"timers.run_due in-process: {fired} timers in {elapsed:.2f} s ({fired / elapsed:.0f}/s)\n")
        stats = pstats.Stats(profiler, stream=out).sort_stats("cumulative")
        stats.print_stats(40)
        stats.sort_stats("tottime").print_stats(25)
        return out.getvalue()
    finally:
        engine.dispose()


# --- main -------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.scheduler",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--timers", type=int, help="timers due at once (default 10000; quick 1000)")
    parser.add_argument(
        "--processes", type=int, nargs="+", default=[1, 2], help="scheduler processes (default 1 2)"
    )
    parser.add_argument(
        "--lateness-timers", type=int, help="single timers for lateness (default 50; quick 10)"
    )
    parser.add_argument(
        "--poll", type=float, default=0.5, help="--poll of the lateness scheduler (default 0.5 s)"
    )
    parser.add_argument(
        "--lead", type=float, default=1.0, help="seconds between storing a timer and its due time"
    )
    parser.add_argument(
        "--batch", type=int, default=None, help="--batch of the throughput schedulers (app default 100)"
    )
    parser.add_argument(
        "--fire-threads",
        type=int,
        default=None,
        help="--fire-threads of every scheduler (app default: SCHEDULER_FIRE_THREADS, else 4)",
    )
    parser.add_argument(
        "--seed-margin", type=float, default=4.0, help="seconds added to the seeding time before due"
    )
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds to wait for all timers to fire")
    parser.add_argument("--pg-url", default=os.environ.get("BENCH_SCHEDULER_PG_URL", DEFAULT_PG_URL))
    parser.add_argument("--quick", action="store_true", help="small sizes for a smoke run")
    parser.add_argument("--skip", choices=("throughput", "lateness"), action="append", default=[])
    parser.add_argument("--profile", action="store_true", help="also cProfile timers.run_due in-process")
    parser.add_argument("--output", type=Path, default=RESULTS_DIR / "scheduler.json")
    args = parser.parse_args(argv)
    if args.timers is None:
        args.timers = 1000 if args.quick else 10_000
    if args.lateness_timers is None:
        args.lateness_timers = 10 if args.quick else 50
    args.fire_threads_args = ["--fire-threads", str(args.fire_threads)] if args.fire_threads else []
    args.scheduler_args = (["--batch", str(args.batch)] if args.batch else []) + args.fire_threads_args
    return args


def _mark(ok: bool) -> str:
    return "ok" if ok else "MISSED"


def print_table(results: dict[str, Any]) -> None:
    print()
    print(f"{'measure':<52} {'value':>12} {'target':>12}")
    print("-" * 78)
    for run in results.get("throughput", []):
        n = run["processes"]
        target = f">= {RATE_TARGET:.0f}" if n == 1 else ""
        mark = f"  {_mark(run['timers_per_s'] >= RATE_TARGET)}" if n == 1 else ""
        label = f"{run['timers']} due at once, {n} process(es): timers/s"
        print(f"{label:<52} {run['timers_per_s']:>12.1f} {target:>12}{mark}")
        print(f"{'  due -> last fire (s)':<52} {run['due_to_last_fire_s']:>12.2f}")
        print(f"{'  first fire after due (s)':<52} {run['first_fire_after_due_s']:>12.3f}")
        print(f"{'  schedulers started before due':<52} {str(run['schedulers_ready_before_due']):>12}")
        print(f"{'  per process':<52} {json.dumps(list(run['per_process'].values())):>12}")
        print(f"{'  fire threads per process':<52} {json.dumps(run['fire_threads_per_process']):>12}")
        checks = f"{run['exactly_once']} / {run['remaining_waiting_timers']}"
        print(f"{'  exactly once / waiting left':<52} {checks:>12}")
    late = results.get("lateness")
    if late:
        label = f"lateness, {late['timers']} single timers, poll {late['poll_s']} s"
        print(f"{label + ': p50 ms':<52} {late['p50_ms']:>12.1f}")
        ok = late["p99_ms"] <= P99_TARGET_S * 1000 and late["fired"] == late["timers"]
        print(f"{'  p99 ms':<52} {late['p99_ms']:>12.1f} {'<= 1000':>12}  {_mark(ok)}")
        print(f"{'  max ms / fired':<52} {str(late['max_ms']) + ' / ' + str(late['fired']):>12}")
    print()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    ensure_database(args.pg_url)
    RESULTS_DIR.mkdir(exist_ok=True)
    logs = RESULTS_DIR / "scheduler-logs"
    logs.mkdir(exist_ok=True)
    started = time.monotonic()
    results: dict[str, Any] = {
        "started_at": datetime.now(UTC).isoformat(),
        "command": " ".join([Path(sys.executable).name, "-m", "bench.scheduler", *sys.argv[1:]]),
        "pg_url": args.pg_url,
        "environment": {"python": platform.python_version(), "cpu_count": os.cpu_count()},
        "targets": {"timers_per_s_one_process": RATE_TARGET, "lateness_p99_s": P99_TARGET_S},
    }
    with create_engine(args.pg_url).connect() as conn:
        results["environment"]["postgresql_server"] = conn.execute(text("SHOW server_version")).scalar()
    if "throughput" not in args.skip:
        results["throughput"] = []
        for n in args.processes:
            print(f"throughput: {args.timers} timers, {n} scheduler process(es)...", flush=True)
            run = run_throughput(args, n, logs)
            print(
                f"  {run['timers_per_s']}/s, per process {list(run['per_process'].values())}, "
                f"fire threads {run['fire_threads_per_process']}, "
                f"exactly once {run['exactly_once']}, seeded in {run['seed_seconds']} s",
                flush=True,
            )
            results["throughput"].append(run)
    if "lateness" not in args.skip:
        print(f"lateness: {args.lateness_timers} single timers, scheduler --poll {args.poll}...", flush=True)
        results["lateness"] = run_lateness(args, logs)
    if args.profile:
        print("profile: timers.run_due in-process...", flush=True)
        profile = run_profile(args)
        (RESULTS_DIR / "scheduler-profile.txt").write_text(profile)
        print("\n".join(profile.splitlines()[:1]))
        results["profile"] = str(RESULTS_DIR / "scheduler-profile.txt")
    results["elapsed_s"] = round(time.monotonic() - started, 1)
    args.output.write_text(json.dumps(results, indent=2, default=str))
    print_table(results)
    print(f"written {args.output} in {results['elapsed_s']} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
