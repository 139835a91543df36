"""Typed settings read from the environment.

Two modes. The embedded default (`APP_ENV` unset or `demo`): an SQLite file and a secret key
generated once, both kept in the instance folder (`INSTANCE_PATH`, default `instance/` beside the
code), so that the CLI, the server and each of its workers agree. Production (`APP_ENV=production`):
nothing is made up; the server refuses to start without `SECRET_KEY` and `DATABASE_URL`.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_INSTANCE = PROJECT_ROOT / "instance"
PRODUCTION = "production"
ENVIRONMENTS = ("demo", PRODUCTION)
LOG_FORMATS = ("json", "text")


class SettingsError(ValueError):
    """The environment does not make a server that may start; the message says what to set."""


def _default_database_url(instance: Path = DEFAULT_INSTANCE) -> str:
    return f"sqlite:///{instance / 'workflow.sqlite3'}"


def instance_secret_key(instance: Path) -> str:
    """The key in `instance/secret_key` (owner-only), made on first use. Processes that start
    together agree: the file appears whole, by a hard link, and the first link wins."""
    path = instance / "secret_key"
    if not path.exists():
        instance.mkdir(parents=True, exist_ok=True)
        draft = instance / f".secret_key.{os.getpid()}.{secrets.token_hex(4)}"
        descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as out:
            out.write(secrets.token_hex(32))
        with contextlib.suppress(FileExistsError):
            os.link(draft, path)
        draft.unlink()
    key = path.read_text().strip()
    if len(key) < 32:
        raise SettingsError(f"{path} holds no usable key: delete it to have a new one made")
    return key


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
    app_env: str = "demo"
    # Proxies in front of the server whose X-Forwarded-For/-Proto/-Host/-Port are believed.
    trusted_proxy_hops: int = 0
    log_format: str = "text"

    @property
    def production(self) -> bool:
        return self.app_env == PRODUCTION

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if env is None else env)
        values: dict[str, object] = {}
        app_env = env.get("APP_ENV") or "demo"
        if app_env not in ENVIRONMENTS:
            raise SettingsError(f"APP_ENV must be one of {', '.join(ENVIRONMENTS)}, not {app_env!r}")
        values["app_env"] = app_env
        if app_env == PRODUCTION:
            missing = [name for name in ("SECRET_KEY", "DATABASE_URL") if not env.get(name)]
            if missing:
                raise SettingsError(f"APP_ENV=production needs {' and '.join(missing)} set")
        instance = Path(env.get("INSTANCE_PATH") or DEFAULT_INSTANCE)
        values["database_url"] = env.get("DATABASE_URL") or _default_database_url(instance)
        values["secret_key"] = env.get("SECRET_KEY") or instance_secret_key(instance)
        values["log_format"] = env.get("LOG_FORMAT") or ("json" if app_env == PRODUCTION else "text")
        if values["log_format"] not in LOG_FORMATS:
            raise SettingsError(f"LOG_FORMAT must be one of {', '.join(LOG_FORMATS)}")
        if env.get("TRUSTED_PROXY_HOPS"):
            values["trusted_proxy_hops"] = int(env["TRUSTED_PROXY_HOPS"])
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
            raise SettingsError("SCRIPT_CPU_SECONDS and SCRIPT_WALL_SECONDS must be positive")
        if self.script_memory_mb < 64:
            raise SettingsError("SCRIPT_MEMORY_MB must be at least 64 (the worker's interpreter needs it)")
        if self.script_queue_seconds is not None and self.script_queue_seconds < 0:
            raise SettingsError("SCRIPT_QUEUE_SECONDS must not be negative")
        if self.script_workers < 1:
            raise SettingsError("SCRIPT_WORKERS must be at least 1")
        if self.script_worker_uses < 1:
            raise SettingsError("SCRIPT_WORKER_USES must be at least 1")
        if self.trusted_proxy_hops < 0:
            raise SettingsError("TRUSTED_PROXY_HOPS must not be negative")
