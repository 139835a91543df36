"""deploy/entrypoint.sh, as the image runs it: `migrate` twice at once (each procedure deployed
once), `web` with readiness, JSON request logs and request ids, a CLI token the server accepts
(they share the instance folder's secret key), production refusing to start without its
settings, and an online backup taken under load that holds every committed instance."""

from __future__ import annotations

import http.client
import json
import os
import signal
import sqlite3
import subprocess
import threading
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from app.db.session import make_engine
from tests.scheduler.conftest import wait_until
from tests.test_serving import _free_port

PROJECT = Path(__file__).resolve().parents[1]
ENTRYPOINT = PROJECT / "deploy" / "entrypoint.sh"
PROCEDURES = 4  # the diagrams in bpmn/


def environment(instance: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "SECRET_KEY", "APP_ENV")}
    env.update(INSTANCE_PATH=str(instance), ADMIN_PASSWORD="admin-password-1", **extra)
    return env


def run(env: dict[str, str], *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(ENTRYPOINT), *args], env=env, capture_output=True, text=True, timeout=timeout)


def request(port: int, path: str, headers: dict[str, str] | None = None) -> tuple[int, Any, dict]:
    """Status, headers (case-insensitive) and JSON body."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.headers, json.loads(response.read() or b"{}")
    finally:
        conn.close()


def test_two_migrations_at_once_deploy_each_procedure_once(tmp_path: Path) -> None:
    env = environment(tmp_path / "instance")
    both = [subprocess.Popen([str(ENTRYPOINT), "migrate"], env=env, stdout=subprocess.PIPE, text=True)
            for _ in range(2)]  # fmt: skip
    outputs = [process.communicate(timeout=180)[0] for process in both]
    assert [process.returncode for process in both] == [0, 0]
    text = "".join(outputs)
    assert text.count("version 1 (new version)") == PROCEDURES  # the second found them deployed
    assert text.count("version 1 (unchanged)") == PROCEDURES
    assert "demo users" not in text  # migrate never makes demo data


def test_web_is_ready_logs_json_and_accepts_a_cli_token(tmp_path: Path) -> None:
    env = environment(tmp_path / "instance", LOG_FORMAT="json", WEB_SCHEDULER="false", TRUSTED_PROXY_HOPS="1")
    port = _free_port()
    server = subprocess.Popen(
        [str(ENTRYPOINT), "web"], env={**env, "WEB_PORT": str(port)}, stderr=subprocess.PIPE, text=True
    )
    try:
        wait_until(lambda: _answers(port), timeout=30)
        status, _, body = request(port, "/readyz")
        assert status == 503 and "run migrate" in body["reason"]  # not migrated yet
        assert request(port, "/healthz")[0] == 200  # alive all the same
        assert run(env, "migrate").returncode == 0
        status, _, body = request(port, "/readyz")
        assert (status, body["status"]) == (200, "ready")

        token = run(env, "users", "token", "admin").stdout.strip()  # another process, same key
        status, headers, me = request(
            port, "/api/v1/me", {"Authorization": f"Bearer {token}", "X-Request-ID": "probe-42"}
        )
        assert (status, me["username"], headers["X-Request-ID"]) == (200, "admin", "probe-42")
    finally:
        server.send_signal(signal.SIGTERM)
        _, errors = server.communicate(timeout=60)
    lines = [json.loads(line) for line in errors.splitlines() if line.startswith("{")]
    [logged] = [line for line in lines if line.get("request_id") == "probe-42"]
    assert (logged["status"], logged["user"], logged["path"], logged["logger"]) == (
        200,
        "admin",
        "/api/v1/me",
        "app.requests",
    )
    assert logged["duration_ms"] >= 0 and logged["level"] == "INFO"
    assert oct((tmp_path / "instance" / "secret_key").stat().st_mode & 0o777) == "0o600"


def _answers(port: int) -> bool:
    try:
        return request(port, "/healthz")[0] == 200
    except OSError:
        return False


def test_production_refuses_to_start_without_its_settings(tmp_path: Path) -> None:
    refused = run(environment(tmp_path, APP_ENV="production"), "web")
    assert refused.returncode == 2
    assert "APP_ENV=production needs SECRET_KEY and DATABASE_URL set" in refused.stderr
    assert not (tmp_path / "secret_key").exists()  # nothing made up in production


def test_a_backup_taken_under_load_holds_every_committed_instance(tmp_path: Path) -> None:
    from app import create_app
    from app.db.models import ProcessInstance
    from app.services.people.users import SYSTEM
    from app.services.running import instances
    from app.settings import Settings

    env = environment(tmp_path / "instance")
    assert run(env, "migrate").returncode == 0
    app = create_app(Settings.from_env(env))
    ctx = app.extensions["services"]
    committed: list[int] = []
    stop = threading.Event()

    def load() -> None:
        while not stop.is_set():
            view = instances.start_instance(ctx, SYSTEM, "appeal", {})
            committed.append(view["id"])

    writer = threading.Thread(target=load)
    writer.start()
    try:
        wait_until(lambda: len(committed) >= 5, timeout=60)
        before = list(committed)
        backed_up = run(env, "backup", str(tmp_path / "copy.sqlite3"))
        wait_until(lambda: len(committed) >= len(before) + 3, timeout=60)  # writes went on
    finally:
        stop.set()
        writer.join(timeout=60)
        app.extensions["db_engine"].dispose()
    assert backed_up.returncode == 0, backed_up.stderr
    copy = sqlite3.connect(tmp_path / "copy.sqlite3")
    assert copy.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    copy.close()
    engine = make_engine(f"sqlite:///{tmp_path / 'copy.sqlite3'}")
    with engine.connect() as connection:
        restored = set(connection.scalars(select(ProcessInstance.id)))
    engine.dispose()
    assert set(before) <= restored  # every instance committed before the backup began
    refused = run(env, "backup", str(tmp_path / "copy.sqlite3"))
    assert refused.returncode != 0 and "exists already" in refused.stderr


@pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL"), reason="PostgreSQL is not configured")
def test_backup_refuses_postgresql_and_names_pg_dump(tmp_path: Path) -> None:
    env = environment(tmp_path, DATABASE_URL=os.environ["TEST_DATABASE_URL"])
    refused = run(env, "backup", str(tmp_path / "copy.sqlite3"))
    assert refused.returncode != 0 and "pg_dump" in refused.stderr
