"""Hostile diagram code over HTTP, against a real threaded server: answers that describe what
happened (never a 500), a server that keeps answering, and a busy sandbox refused with 503."""

from __future__ import annotations

import http.client
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import make_server

from app import create_app
from app.db.migrate import upgrade
from app.db.session import make_engine
from app.services.context import ServiceContext
from app.services.modelling import deployments
from app.services.people import users
from app.services.people.users import SYSTEM
from app.settings import Settings
from tests.api import contract
from tests.services.test_sandbox_instances import hostile

SECRET = "sandbox-http-secret-key"
LOOP = "x = 0\nwhile True:\n    x += 1"
START = {"process_model": "hostile", "data": {}}


class Server:
    def __init__(self, tmp: Path, **limits: Any) -> None:
        url = f"sqlite:///{tmp / 'sandbox.sqlite3'}"
        engine = make_engine(url)
        upgrade(engine)
        engine.dispose()
        self.settings = Settings(database_url=url, secret_key=SECRET, **limits)
        self.app = create_app(self.settings)
        self.ctx: ServiceContext = self.app.extensions["services"]
        users.create_user(
            self.ctx, SYSTEM, username="ana", password="password123", groups=["analysts"], leads=[]
        )
        self.token = users.issue_token(self.ctx, users.actor_for(self.ctx, "ana"))
        self.http = make_server("127.0.0.1", 0, self.app, threaded=True)
        self.port = self.http.server_port
        self.thread = threading.Thread(target=self.http.serve_forever, daemon=True)
        self.thread.start()

    def request(self, method: str, path: str, body: Any = None, timeout: float = 30) -> tuple[int, Any, dict]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        headers = {"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"}
        try:
            connection.request(method, path, body=None if body is None else json.dumps(body), headers=headers)
            response = connection.getresponse()
            raw = response.read()
            if path.startswith("/api/v1"):
                contract.check_response(
                    method, path.split("?")[0], response.status, response.getheader("Content-Type") or "", raw
                )
            return response.status, json.loads(raw) if raw else None, dict(response.getheaders())
        finally:
            connection.close()

    def deploy(self, files: dict[str, bytes]) -> None:
        deployments.deploy(self.ctx, SYSTEM, files)

    def close(self) -> None:
        self.http.shutdown()
        self.thread.join(timeout=5)
        self.app.extensions["db_engine"].dispose()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    live = Server(tmp_path, script_workers=4)
    yield live
    live.close()


def test_deploying_a_format_string_walk_answers_422_without_secrets(server: Server) -> None:
    timer = "'{0.gi_frame.f_back.f_globals}'.format((x for x in [1]))"
    content = hostile(timer=timer)["hostile.bpmn"]
    boundary = "sandbox-boundary"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="hostile.bpmn"\r\n'
            "Content-Type: application/xml\r\n\r\n"
        ).encode()
        + content
        + f"\r\n--{boundary}--\r\n".encode()
    )
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    connection.request(
        "POST",
        "/api/v1/process-models",
        body=body,
        headers={
            "Authorization": f"Bearer {server.token}",
            "Content-Type": f"multipart/form-data; boundary={boundary}",
        },
    )
    response = connection.getresponse()
    raw = response.read().decode()
    assert response.status == 422
    assert SECRET not in raw and "sqlite" not in raw
    [problem] = json.loads(raw)["details"]
    assert (problem["file"], problem["element_id"], problem["line"]) == ("hostile.bpmn", "Wait", 6)


@pytest.mark.parametrize(
    ("script", "expected"),
    [
        ("raise SystemExit(0)", "SystemExit"),
        ("raise GeneratorExit()", "GeneratorExit"),
        ("g = (i for i in [1])", "cannot be stored"),
        ("n = 10 ** 5000", "cannot be stored"),
        (LOOP, "CPU limit"),
    ],
)
def test_a_failing_start_is_answered_with_the_incident_not_500(
    server: Server, script: str, expected: str
) -> None:
    server.deploy(hostile(script))
    status, body, _ = server.request("POST", "/api/v1/process-instances", START)
    assert status == 201
    assert body["status"] == "error"
    assert body["error"]["element_id"] == "Script_Hostile"
    assert expected in body["error"]["message"]


def test_healthz_answers_quickly_while_four_hostile_scripts_run(server: Server) -> None:
    server.deploy(hostile("x = pow(3, 10 ** 200000, 10 ** 200000 + 1)"))
    server.request("GET", "/healthz")  # the server is up
    answers: list[int] = []

    def start() -> None:
        status, body, _ = server.request("POST", "/api/v1/process-instances", START)
        answers.append(status if body.get("status") == "error" else -status)

    threads = [threading.Thread(target=start) for _ in range(4)]
    for thread in threads:
        thread.start()
    time.sleep(0.3)  # the four evaluations are running
    latencies = []
    while any(thread.is_alive() for thread in threads):
        began = time.perf_counter()
        status, body, _ = server.request("GET", "/healthz", timeout=5)
        latencies.append(time.perf_counter() - began)
        assert status == 200
        time.sleep(0.05)
    for thread in threads:
        thread.join()
    assert answers == [201] * 4
    assert len(latencies) >= 5
    assert max(latencies) < 0.1, latencies


def test_a_busy_sandbox_answers_503_with_retry_after_and_changes_nothing(tmp_path: Path) -> None:
    limits = {"script_cpu_seconds": 2, "script_wall_seconds": 3, "script_queue_seconds": 0.4}
    live = Server(tmp_path, script_workers=1, **limits)
    try:
        live.deploy(hostile(LOOP))
        holder = threading.Thread(target=live.request, args=("POST", "/api/v1/process-instances", START))
        holder.start()
        time.sleep(0.3)
        began = time.monotonic()
        status, body, headers = live.request("POST", "/api/v1/process-instances", START)
        assert time.monotonic() - began < 2
        assert status == 503
        assert body["error"] == "unavailable"
        assert headers["Retry-After"] == "3"
        holder.join()
        status, listed, _ = live.request("GET", "/api/v1/process-instances")
        assert status == 200
        assert len(listed["process_instances"]) == 1  # the holder's, in error: nothing of the refused one
    finally:
        live.close()
