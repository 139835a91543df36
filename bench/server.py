"""Fresh databases and a real server process (`python -m app serve`) for the benchmarks."""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .client import JsonClient

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# A database of its own on the local server: its schema `public` is dropped on every run, which
# must not happen to the `test` database other people's test runs use at the same time.
DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/bench"
HOST = "127.0.0.1"
BPMN_NS = {"bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL"}


def on_each_database(file_name: str, run: Callable[[str, str], dict], pg_url: str) -> dict[str, dict]:
    """`run(kind, url)` on a temporary SQLite file, then on PostgreSQL when it answers (its schema
    `public` dropped first); the results by kind."""
    results: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as folder:
        results["sqlite"] = run("sqlite", f"sqlite:///{folder}/{file_name}")
    problem = postgres_reachable(pg_url)
    if problem is None:
        reset_postgres(pg_url)
        results["postgresql"] = run("postgresql", pg_url)
    else:
        print(f"PostgreSQL skipped: {problem}")
    return results


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def ensure_database(url: str, timeout: float = 3.0) -> None:
    """Create the URL's database (connecting to `postgres` on the same server) when it is missing."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    target = make_url(url)
    admin = create_engine(
        target.set(database="postgres"),
        isolation_level="AUTOCOMMIT",
        connect_args={"connect_timeout": int(timeout)},
    )
    try:
        with admin.connect() as conn:
            exists = conn.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": target.database}
            )
            if exists.first() is None:
                conn.execute(text(f'CREATE DATABASE "{target.database}"'))
    finally:
        admin.dispose()


def postgres_reachable(url: str, timeout: float = 3.0) -> str | None:
    """None when the database can be used (created if missing), else the reason it cannot."""
    try:
        from sqlalchemy import create_engine, text

        ensure_database(url, timeout)
        engine = create_engine(url, connect_args={"connect_timeout": int(timeout)})
        try:
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        finally:
            engine.dispose()
    except Exception as exc:  # any failure means: skip PostgreSQL
        return f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
    return None


def reset_postgres(url: str) -> None:
    """Drop and recreate the schema `public` (the benchmark owns this database)."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text("SET lock_timeout = '30s'"))
            conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    finally:
        engine.dispose()


@dataclass
class Database:
    kind: str  # "sqlite" | "postgresql"
    url: str
    workdir: Path
    admin_password: str = field(default_factory=lambda: "bench-" + secrets.token_hex(8))
    secret_key: str = field(default_factory=lambda: secrets.token_hex(32))

    @classmethod
    def fresh(cls, kind: str, workdir: Path, pg_url: str = DEFAULT_PG_URL) -> Database:
        workdir.mkdir(parents=True, exist_ok=True)
        if kind == "sqlite":
            path = workdir / "bench.sqlite3"
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
            return cls(kind, f"sqlite:///{path}", workdir)
        reset_postgres(pg_url)
        return cls(kind, pg_url, workdir)

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(DATABASE_URL=self.url, SECRET_KEY=self.secret_key, ADMIN_PASSWORD=self.admin_password)
        env.setdefault("PYTHONUNBUFFERED", "1")
        return env

    def app_command(self, *args: str, log_name: str) -> subprocess.CompletedProcess[str]:
        """Run `python -m app ARGS` against this database; raise with its output on failure."""
        result = subprocess.run(
            [sys.executable, "-m", "app", *args],
            cwd=PROJECT_ROOT,
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=600,
        )
        (self.workdir / log_name).write_text(result.stdout + "\n--- stderr ---\n" + result.stderr)
        if result.returncode != 0:
            tail = (result.stderr or result.stdout).strip().splitlines()[-15:]
            raise RuntimeError(
                f"`python -m app {' '.join(args)}` failed ({self.kind}):\n  " + "\n  ".join(tail)
            )
        return result

    def setup(self) -> dict[str, object]:
        """Migrations, the procedure groups, the admin from ADMIN_PASSWORD and bpmn/."""
        started = time.perf_counter()
        self.app_command("setup", "--no-demo", log_name=f"setup-{self.kind}.log")
        return {"mode": "setup --no-demo", "seconds": round(time.perf_counter() - started, 2)}

    def _engine(self):
        from sqlalchemy import create_engine

        return create_engine(self.url)


class Server:
    """`python -m app serve` in a subprocess on a free port; a context manager."""

    def __init__(self, database: Database, threads: int | None = None, workers: int = 1) -> None:
        self.database = database
        self.port = free_port()
        self.threads = threads
        self.workers = workers
        self.log_path = database.workdir / f"server-{database.kind}.log"
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Server:
        command = [sys.executable, "-m", "app", "serve", "--host", HOST, "--port", str(self.port)]
        if self.threads:
            command += ["--threads", str(self.threads)]
        if self.workers > 1:
            command += ["--workers", str(self.workers)]
        self._log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            command,
            cwd=PROJECT_ROOT,
            env=self.database.env(),
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        self._wait_ready()
        return self

    def _wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        assert self.process is not None
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited with {self.process.returncode}:\n{self.log_tail()}")
            try:
                with JsonClient(HOST, self.port, timeout=2) as client:
                    status, _ = client.raw("GET", "/healthz")
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"the server did not answer /healthz within {timeout:.0f}s:\n{self.log_tail()}")

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def client(self, token: str | None = None) -> JsonClient:
        return JsonClient(HOST, self.port, token)

    def __exit__(self, *exc: object) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=15)
        self._log.close()
