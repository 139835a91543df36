"""`python -m app serve --workers 2`: granian worker processes, each with its own timer scheduler.

The timers are due an hour after START (2026-03-02), long before the server's system clock: they
are all due as soon as the workers start, and both workers' schedulers compete for them.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from sqlalchemy import select

from app.db.models import AuditRecord, WaitingTimer
from app.services.people import users
from app.services.people.users import SYSTEM
from app.services.running import instances
from tests.scheduler.conftest import wait_until

PROJECT = Path(__file__).resolve().parents[1]
INSTANCES = 40


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(port: int, path: str, token: str | None = None) -> tuple[int, dict]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path, headers={"Authorization": f"Bearer {token}"} if token else {})
        response = conn.getresponse()
        return response.status, json.loads(response.read() or b"{}")
    finally:
        conn.close()


def _children(pid: int) -> list[int]:
    found = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True)
    return [int(p) for p in found.stdout.split()]


def _fired(ctx) -> Counter:
    query = select(AuditRecord.instance_id).where(AuditRecord.action == "timer.fired")
    with ctx.uow() as uow:
        return Counter(uow.session.scalars(query))


def test_two_workers_serve_and_fire_each_timer_once(ctx, timer_models) -> None:
    started = [
        instances.start_instance(ctx, SYSTEM, "timer_intermediate", {})["id"] for _ in range(INSTANCES)
    ]
    token = users.issue_token(ctx, timer_models)
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": ctx.settings.database_url, "SECRET_KEY": ctx.settings.secret_key}
    server = subprocess.Popen(
        [sys.executable, "-m", "app", "serve", "--port", str(port), "--workers", "2", "--threads", "2"],
        cwd=PROJECT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    workers: list[int] = []
    try:
        wait_until(lambda: _port_open(port) and _get(port, "/healthz")[0] == 200, timeout=60)
        wait_until(lambda: len(_children(server.pid)) == 2, timeout=30)
        workers = _children(server.pid)

        # Any worker answers an authenticated request (keep-alive is not used: each request may
        # reach either process).
        for _ in range(6):
            status, body = _get(port, "/api/v1/me", token)
            assert status == 200 and body["username"] == timer_models.username

        wait_until(lambda: sum(_fired(ctx).values()) >= INSTANCES, timeout=60)
        time.sleep(1.5)  # several polls of both schedulers: nothing may fire a second time
        fired = _fired(ctx)
        assert sorted(fired) == sorted(started)
        assert set(fired.values()) == {1}
        with ctx.uow() as uow:
            assert list(uow.session.scalars(select(WaitingTimer))) == []
            statuses = {instances.get_instance(ctx, SYSTEM, i)["status"] for i in started}
        assert statuses == {"complete"}
    finally:
        server.send_signal(signal.SIGTERM)
        output = server.communicate(timeout=60)[0]
    assert server.returncode == 0, output
    assert all(not Path(f"/proc/{pid}").exists() for pid in workers), "a worker outlived the server"
    assert "Spawning worker-2" in output


def _port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0
