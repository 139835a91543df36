"""Typed settings read from the environment."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _default_database_url() -> str:
    instance = PROJECT_ROOT / "instance"
    return f"sqlite:///{instance / 'workflow.sqlite3'}"


@dataclass(frozen=True)
class Settings:
    database_url: str = field(default_factory=_default_database_url)
    secret_key: str = field(default_factory=lambda: secrets.token_hex(32))
    admin_password: str | None = None
    timezone: str = "Asia/Almaty"
    token_max_age_seconds: int = 12 * 3600
    # Diagram code: what one evaluation may use, and the sandbox workers each process keeps.
    script_cpu_seconds: float = 1.0
    script_memory_mb: int = 256
    script_wall_seconds: float = 5.0
    script_workers: int = 2
    # Evaluations a worker serves before it is replaced (1: a fresh worker for each).
    script_worker_uses: int = 1000
    # How long an evaluation waits for a busy pool before the request is refused (503); None:
    # as long as one evaluation may run (script_wall_seconds).
    script_queue_seconds: float | None = None
    max_upload_bytes: int = 5 * 1024 * 1024
    # Send the session cookie over HTTPS only (set when the server sits behind TLS).
    secure_cookies: bool = False
    bpmn_dir: Path = PROJECT_ROOT / "bpmn"
    forms_dir: Path = PROJECT_ROOT / "forms"
    # Threads firing a scheduler's claimed timers; None: 4 on PostgreSQL. Always 1 on SQLite.
    scheduler_fire_threads: int | None = None

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if env is None else env)
        values: dict[str, object] = {}
        if env.get("DATABASE_URL"):
            values["database_url"] = env["DATABASE_URL"]
        if env.get("SECRET_KEY"):
            values["secret_key"] = env["SECRET_KEY"]
        if env.get("ADMIN_PASSWORD"):
            values["admin_password"] = env["ADMIN_PASSWORD"]
        if env.get("APP_TIMEZONE"):
            values["timezone"] = env["APP_TIMEZONE"]
        if env.get("SESSION_COOKIE_SECURE"):
            values["secure_cookies"] = env["SESSION_COOKIE_SECURE"].lower() in ("1", "true", "yes")
        for name, convert in (("cpu_seconds", float), ("memory_mb", int), ("wall_seconds", float),
                              ("workers", int), ("queue_seconds", float), ("worker_uses", int)):  # fmt: skip
            raw = env.get(f"SCRIPT_{name.upper()}")
            if raw:
                values[f"script_{name}"] = convert(raw)
        if env.get("SCHEDULER_FIRE_THREADS"):
            values["scheduler_fire_threads"] = int(env["SCHEDULER_FIRE_THREADS"])
        settings = cls(**values)  # type: ignore[arg-type]
        settings.check()
        return settings

    def check(self) -> None:
        if self.script_cpu_seconds <= 0 or self.script_wall_seconds <= 0:
            raise ValueError("SCRIPT_CPU_SECONDS and SCRIPT_WALL_SECONDS must be positive")
        if self.script_memory_mb < 64:
            raise ValueError("SCRIPT_MEMORY_MB must be at least 64 (the worker's interpreter needs it)")
        if self.script_queue_seconds is not None and self.script_queue_seconds < 0:
            raise ValueError("SCRIPT_QUEUE_SECONDS must not be negative")
        if self.script_workers < 1:
            raise ValueError("SCRIPT_WORKERS must be at least 1")
        if self.script_worker_uses < 1:
            raise ValueError("SCRIPT_WORKER_USES must be at least 1")
