"""schemathesis against the real server: the API does what its served OpenAPI document says.

A server (`python -m app serve`) runs on a temporary SQLite file with the shipped procedures and
the demo data; schemathesis reads `/api/v1/openapi.json` and sends generated requests (valid ones,
invalid ones, undeclared methods, and chains that follow the document's links), signed in as an
administrator and then as a Secretariat clerk. Any server error, undocumented status or content
type, response off its schema, invalid request accepted or undeclared method answered fails.

Bounded by time: SCHEMATHESIS_SECONDS per user (default 80). For a longer run:

    SCHEMATHESIS_SECONDS=1800 .venv/bin/python -m pytest tests/api/test_schemathesis.py
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[2]
REPORTS = PROJECT / "test-artifacts" / "schemathesis"
CHECKS = ",".join(
    (
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_schema_conformance",
        "negative_data_rejection",
        "unsupported_method",
        "allow_header_conformance",
    )
)
SECONDS = int(os.environ.get("SCHEMATHESIS_SECONDS", "80"))
SEED = os.environ.get("SCHEMATHESIS_SEED", "20261207")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _token(app: list[str], username: str, env: dict[str, str]) -> str:
    printed = subprocess.run(
        [*app, "users", "token", username], env=env, cwd=PROJECT, check=True, capture_output=True, text=True
    )
    return printed.stdout.split()[-1]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str]]]:
    cli = shutil.which("schemathesis", path=str(Path(sys.executable).parent))
    if cli is None:
        pytest.skip("schemathesis is not installed (pip install -e '.[test]')")
    folder = tmp_path_factory.mktemp("schemathesis")
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{folder / 'api.sqlite3'}",
        "SECRET_KEY": "schemathesis-run",
    }
    app = [sys.executable, "-m", "app"]
    subprocess.run([*app, "setup"], env=env, cwd=PROJECT, check=True, capture_output=True)
    port = _free_port()
    log = (folder / "server.log").open("w")
    process = subprocess.Popen(
        [*app, "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "1"],
        env=env,
        cwd=PROJECT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(url + "/healthz", timeout=2)
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError((folder / "server.log").read_text()) from None
                time.sleep(0.2)
        tokens = {who: _token(app, who, env) for who in ("admin", "sec.aliya")}
        yield url, tokens
    finally:
        process.terminate()
        process.wait(timeout=20)
        log.close()
        server_log = (folder / "server.log").read_text()
        REPORTS.mkdir(parents=True, exist_ok=True)
        (REPORTS / "server.log").write_text(server_log)


@pytest.mark.parametrize("who", ["admin", "sec.aliya"])
def test_the_api_does_what_its_document_says(server: tuple[str, dict[str, str]], who: str) -> None:
    url, tokens = server
    cli = shutil.which("schemathesis", path=str(Path(sys.executable).parent))
    assert cli is not None
    REPORTS.mkdir(parents=True, exist_ok=True)
    run = subprocess.run(
        [
            cli,
            "run",
            f"{url}/api/v1/openapi.json",
            "--header",
            f"Authorization: Bearer {tokens[who]}",
            "--checks",
            CHECKS,
            "--max-time",
            str(SECONDS),
            "--workers",
            "1",
            "--seed",
            SEED,
            "--generation-database",
            "none",
            "--no-color",
            "--output-sanitize",
            "true",
        ],
        cwd=REPORTS,
        capture_output=True,
        text=True,
        timeout=SECONDS + 300,
    )
    (REPORTS / f"run-{who}.txt").write_text(run.stdout + run.stderr)
    summary = run.stdout[run.stdout.rfind("SUMMARY") :] if "SUMMARY" in run.stdout else run.stdout[-4000:]
    assert run.returncode == 0, run.stdout[-20000:] + run.stderr[-4000:]
    assert "generated" in summary  # it did run requests, not just read the document
