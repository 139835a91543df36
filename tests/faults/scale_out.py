"""`python -m tests.faults.scale_out`: two web servers (2 workers each) and two timer schedulers on
the local PostgreSQL, each in a network namespace of its own, under load, through three faults:

1. PostgreSQL restarted (`pg_ctlcluster ... restart`; where it cannot be, every database
   connection cut for as long): the servers answer 503 with Retry-After meanwhile and recover
   without a restart;
2. one web server killed with SIGKILL, then started again;
3. one scheduler's link taken down mid-batch, then brought back: the other takes its claims after
   the lease, and the one cut off does not fire what it lost.

Then, from the database and the audit log: no task completed twice, every completion answered 2xx
stored, no member with two ballots in a poll, every due timer fired exactly once, and each running
instance's task and timer rows as its saved state says. Prints the figures; exit status 1 when a
check fails. The pytest wrapper is tests/faults/test_scale_out.py (PostgreSQL only).

    .venv/bin/python -m tests.faults.scale_out              # about 2 minutes
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from tests.faults.load import Client, Tally, load
from tests.faults.network import Network

PROJECT = Path(__file__).resolve().parents[2]
ENTRYPOINT = PROJECT / "deploy" / "entrypoint.sh"
DATABASE = "scale_out"
SECRET = "scale-out-secret-key-0123456789abcdef0123456789abcdef"
COUNCIL = [f"member{n:02d}" for n in range(1, 13)]
NEEDED = 8  # two thirds of twelve: the poll is decided, the other ballots withdrawn
TIMERS = 40
BURST = 15
LEASE = 5
CUT_AT = 0.6  # of the load's time: when the scheduler is cut off


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.faults.scale_out", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    parser.add_argument("--pg-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--seconds", type=float, default=48, help="how long the load runs")
    parser.add_argument("--threads", type=int, default=6)
    args = parser.parse_args(argv)
    result = run(args.pg_url, args.seconds, args.threads)
    print(json.dumps(result["figures"], indent=2))
    for problem in result["problems"]:
        print(f"CHECK FAILED: {problem}")
    return 1 if result["problems"] else 0


def run(pg_url: str, seconds: float, threads: int) -> dict[str, Any]:
    from bench.server import ensure_database, reset_postgres

    base = make_url(pg_url).set(database=DATABASE)
    url = base.render_as_string(hide_password=False)
    ensure_database(url)
    reset_postgres(url)
    env = {**os.environ, "APP_ENV": "production", "SECRET_KEY": SECRET, "DATABASE_URL": url,
           "ADMIN_PASSWORD": "scale-out-admin-1", "LOG_FORMAT": "json"}  # fmt: skip
    subprocess.run([str(ENTRYPOINT), "migrate"], env=env, check=True, capture_output=True, timeout=180)
    ctx, app = _services(url)
    tokens = _people(ctx)
    figures: dict[str, Any] = {}
    servers: list[subprocess.Popen] = []
    schedulers: list[subprocess.Popen] = []
    with Network((base.host or "127.0.0.1", base.port or 5432)) as network:
        figures["hosts"] = "network namespaces" if network.namespaces else f"loopback ({network.why_not})"
        webs = [network.add(f"web{n}") for n in (1, 2)]
        scheduler_host = network.add("scheduler1")
        ports = [8000, 8000] if network.namespaces else [_free_port(), _free_port()]
        try:
            servers += [_start_web(host, env, port) for host, port in zip(webs, ports, strict=True)]
            cut_env = {**env, "DATABASE_URL": scheduler_host.database_url(DATABASE)}
            schedulers.append(_start_scheduler(scheduler_host.command, cut_env))  # the one cut off
            schedulers.append(_start_scheduler(lambda argv: argv, env))
            for host, port in zip(webs, ports, strict=True):
                _wait_ready(host.address, port)
            timer_ids = _short_timers(ctx, seconds)
            tally = Tally()
            client = Client([(h.address, p) for h, p in zip(webs, ports, strict=True)], tokens, tally)
            loader = threading.Thread(target=load, args=(client, COUNCIL, NEEDED, threads, seconds))
            loader.start()
            events = _faults(tally, seconds, webs[0], ports[0], servers, env, scheduler_host)
            loader.join()
            app.extensions["db_engine"].dispose()  # its connections did not live through the restart
            _wait_for_timers(ctx, timer_ids, timeout=LEASE * 4 + 20)
        finally:
            for process in servers + schedulers:
                _stop(process)
    problems = _checks(ctx, tally, timer_ids)
    figures.update(_figures(tally, events, seconds))
    app.extensions["db_engine"].dispose()
    return {"figures": figures, "problems": problems}


def _services(url: str):
    from app import create_app
    from app.settings import Settings

    app = create_app(Settings(database_url=url, secret_key=SECRET))
    return app.extensions["services"], app


def _people(ctx) -> dict[str, str]:
    from app.services.people import users
    from app.services.people.users import SYSTEM

    people = {
        "secretary": ["secretariat"],
        "head": ["secretariat_head", "secretariat"],
        "chairman": ["chairman"],
        **{m: ["council"] for m in COUNCIL},
    }
    for username, groups in people.items():
        users.create_user(ctx, SYSTEM, username=username, password="scale-out-1", groups=groups)
    return {name: users.issue_token(ctx, users.actor_for(ctx, name)) for name in people}


def _short_timers(ctx, seconds: float) -> list[int]:
    """Instances waiting on timers that come due one after another while the load runs."""
    from app.services.modelling import deployments
    from app.services.people.users import SYSTEM
    from app.services.running import instances

    xml = (PROJECT / "tests" / "fixtures" / "timer_intermediate.bpmn").read_text()
    xml = xml.replace('"PT1H"', "wait").replace('id="timer_intermediate"', 'id="short_timer"')
    deployments.deploy(ctx, SYSTEM, {"short_timer.bpmn": xml.encode()})
    spread = [2 + n * (seconds - 2) / TIMERS for n in range(TIMERS)]
    # A burst due just before the scheduler is cut off: it is then likely to hold claims mid-batch.
    burst = [seconds * CUT_AT - 0.3] * BURST
    return [
        instances.start_instance(ctx, SYSTEM, "short_timer", {"wait": f"PT{w:.1f}S"})["id"]
        for w in spread + burst
    ]


def _free_port() -> int:
    from tests.test_serving import _free_port as free

    return free()


def _start_web(host, env: dict[str, str], port: int) -> subprocess.Popen:
    server_env = {**env, "DATABASE_URL": host.database_url(DATABASE), "WEB_HOST": host.address,
                  "WEB_PORT": str(port), "WEB_WORKERS": "2", "WEB_SCHEDULER": "false"}  # fmt: skip
    return subprocess.Popen(
        host.command([str(ENTRYPOINT), "web"]), env=server_env, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip


def _start_scheduler(inside, env: dict[str, str]) -> subprocess.Popen:
    argv = [str(ENTRYPOINT), "scheduler", "--lease", str(LEASE), "--poll", "0.2", "--batch", "5"]
    return subprocess.Popen(inside(argv), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)  # fmt: skip


def _wait_ready(address: str, port: int, timeout: float = 60) -> None:
    import http.client

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        connection = http.client.HTTPConnection(address, port, timeout=2)
        try:
            connection.request("GET", "/readyz")
            if connection.getresponse().status == 200:
                return
        except OSError:
            pass
        finally:
            connection.close()
        time.sleep(0.2)
    raise RuntimeError(f"the server at {address}:{port} was not ready within {timeout} s")


def _faults(
    tally: Tally, seconds: float, web, port: int, servers: list, env, scheduler_host
) -> dict[str, Any]:
    """The three faults at fixed points of the load; when each began and ended."""
    events: dict[str, Any] = {}

    def at(fraction: float) -> None:
        time.sleep(max(0.0, tally.started + seconds * fraction - time.monotonic()))

    def now() -> float:
        return round(time.monotonic() - tally.started, 1)

    at(0.15)
    events["database restart"] = {"began": now(), "how": _restart_postgres(web)}
    events["database restart"]["ended"] = now()
    at(0.4)
    events["web server killed"] = {"began": now()}
    os.killpg(servers[0].pid, signal.SIGKILL)
    servers[0].wait(timeout=10)
    time.sleep(2)
    servers[0] = _start_web(web, env, port)
    _wait_ready(web.address, port)
    events["web server killed"]["ended"] = now()
    at(CUT_AT)
    events["scheduler cut off"] = {"began": now()}
    scheduler_host.cut()
    time.sleep(LEASE * 2)
    scheduler_host.mend()
    events["scheduler cut off"]["ended"] = now()
    return events


def _restart_postgres(web) -> str:
    """A real restart where this machine's cluster can be restarted; else every database
    connection of the servers cut for as long as a restart takes."""
    clusters = Path("/etc/postgresql")
    if clusters.is_dir() and os.geteuid() == 0:
        version = sorted(p.name for p in clusters.iterdir())[-1]
        done = subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "restart"],
                              capture_output=True, text=True, timeout=120)  # fmt: skip
        if done.returncode == 0:
            return f"pg_ctlcluster {version} main restart"
    web.database.cut()
    time.sleep(3)
    web.database.mend()
    return "connections cut for 3 s (the cluster cannot be restarted here)"


def _wait_for_timers(ctx, timer_ids: list[int], timeout: float) -> None:
    from app.db.models import ProcessInstance

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with ctx.uow() as uow:
            waiting = uow.session.scalar(
                select(func.count()).where(
                    ProcessInstance.id.in_(timer_ids), ProcessInstance.status != "complete"
                )
            )
        if not waiting:
            return
        time.sleep(0.5)


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=30)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(process.pid, signal.SIGKILL)


def _figures(tally: Tally, events: dict[str, Any], seconds: float) -> dict[str, Any]:
    per_second = tally.per_second
    figures: dict[str, Any] = {
        "requests": sum(tally.answers.values()),
        "answers by kind": dict(sorted(tally.answers.items())),
        "polls started": len(tally.polls),
        "appeals started": len(tally.appeals),
        "appeals answered": tally.appeals_completed,
        "completions answered 2xx": len(tally.completed),
        "timers fired by each scheduler": sorted(tally.timers_by_scheduler.values()),
        "faults": events,
    }
    for event in events.values():
        began, ended = int(event["began"]), int(event["ended"])
        before = [per_second[s] for s in range(max(0, began - 5), began)]
        during = [per_second[s] for s in range(began, ended + 1)]
        after = [per_second[s] for s in range(ended + 1, min(int(seconds), ended + 6))]
        first_ok = next((s for s in range(began, int(seconds) + 1) if per_second[s] and s > began), None)
        event["2xx per second (before, during, after)"] = [_mean(before), _mean(during), _mean(after)]
        event["seconds to the first 2xx after it began"] = None if first_ok is None else first_ok - began
    return figures


def _mean(values: list[int]) -> float:
    return round(sum(values) / len(values), 1) if values else 0.0


def _checks(ctx, tally: Tally, timer_ids: list[int]) -> list[str]:
    from app.db.models import AuditRecord, ProcessInstance

    problems = []
    with ctx.uow() as uow:
        session = uow.session
        completions = Counter(
            session.scalars(select(AuditRecord.task_id).where(AuditRecord.action == "task.completed"))
        )
        twice = [task for task, n in completions.items() if n > 1]
        if twice:
            problems.append(f"tasks completed twice: {twice[:5]}")
        lost = [task for task, _ in tally.completed if task not in completions]
        if lost:
            problems.append(f"completions answered 2xx but not stored: {lost[:5]}")
        fired_records = session.scalars(select(AuditRecord).where(AuditRecord.action == "timer.fired")).all()
        fired = Counter(record.instance_id for record in fired_records)
        tally.timers_by_scheduler = dict(Counter(record.details.get("scheduler") for record in fired_records))
        wrong = {i: fired.get(i, 0) for i in timer_ids if fired.get(i, 0) != 1}
        if wrong:
            problems.append(
                f"timers not fired exactly once (instance: times): {dict(list(wrong.items())[:5])}"
            )
        tally.appeals_completed = session.scalar(
            select(func.count()).where(
                ProcessInstance.id.in_(tally.appeals), ProcessInstance.status == "complete"
            )
        )
        for instance_id in tally.polls:
            instance = session.get(ProcessInstance, instance_id)
            result = (instance.data or {}).get("poll_result") or {}
            ballots = result.get("ballots") or []
            if len(ballots) != len(set(ballots)):
                problems.append(f"poll {instance_id}: a member with two ballots: {ballots}")
        problems += _rows_match_states(ctx, uow)
    return problems


def _rows_match_states(ctx, uow) -> list[str]:
    """Each running instance's open task and timer rows are those its saved state holds."""
    from app.db.models import HumanTask, ProcessInstance, WaitingTimer
    from app.engine import snapshots
    from app.services.running.instance_store import load_workflow

    problems = []
    session = uow.session
    running = session.scalars(select(ProcessInstance).where(ProcessInstance.status == "running")).all()
    for instance in running:
        workflow = load_workflow(ctx, uow, instance)
        state_tasks = {view.task_id for view in snapshots.human_tasks(workflow)}
        row_tasks = set(session.scalars(select(HumanTask.id).where(HumanTask.instance_id == instance.id)))
        state_timers = len(snapshots.waiting_timers(workflow))
        row_timers = session.scalar(select(func.count()).where(WaitingTimer.instance_id == instance.id))
        if state_tasks != row_tasks or state_timers != row_timers:
            problems.append(f"instance {instance.id}: rows differ from its state")
    return problems


if __name__ == "__main__":
    sys.exit(main())
