from __future__ import annotations

import pytest

from app.settings import PROJECT_ROOT, Settings


def test_defaults_use_sqlite_under_instance_and_almaty():
    settings = Settings.from_env({})
    assert settings.database_url == f"sqlite:///{PROJECT_ROOT / 'instance' / 'workflow.sqlite3'}"
    assert settings.timezone == "Asia/Almaty"
    assert settings.admin_password is None
    assert len(settings.secret_key) >= 32


def test_environment_overrides():
    settings = Settings.from_env(
        {
            "DATABASE_URL": "postgresql+psycopg://u@h/db",
            "SECRET_KEY": "s3cret",
            "ADMIN_PASSWORD": "pw-123456",
            "APP_TIMEZONE": "UTC",
        }
    )
    assert (settings.database_url, settings.secret_key, settings.admin_password, settings.timezone) == (
        "postgresql+psycopg://u@h/db",
        "s3cret",
        "pw-123456",
        "UTC",
    )


def test_script_limits_come_from_the_environment():
    settings = Settings.from_env(
        {
            "SCRIPT_CPU_SECONDS": "2.5",
            "SCRIPT_MEMORY_MB": "512",
            "SCRIPT_WALL_SECONDS": "8",
            "SCRIPT_WORKERS": "4",
            "SCRIPT_QUEUE_SECONDS": "0.5",
            "SCRIPT_WORKER_USES": "1",
        }
    )
    assert settings.script_worker_uses == 1
    assert (
        settings.script_cpu_seconds,
        settings.script_memory_mb,
        settings.script_wall_seconds,
        settings.script_workers,
        settings.script_queue_seconds,
    ) == (2.5, 512, 8.0, 4, 0.5)
    defaults = Settings.from_env({})
    assert (defaults.script_cpu_seconds, defaults.script_memory_mb) == (1.0, 256)
    assert (defaults.script_wall_seconds, defaults.script_workers) == (5.0, 2)
    assert defaults.script_queue_seconds is None


@pytest.mark.parametrize(
    "env",
    [
        {"SCRIPT_CPU_SECONDS": "0"},
        {"SCRIPT_WALL_SECONDS": "-1"},
        {"SCRIPT_MEMORY_MB": "32"},
        {"SCRIPT_WORKERS": "0"},
        {"SCRIPT_QUEUE_SECONDS": "-0.1"},
        {"SCRIPT_WORKER_USES": "0"},
    ],
)
def test_script_limits_that_cannot_work_are_refused(env):
    with pytest.raises(ValueError, match=next(iter(env))):
        Settings.from_env(env)


def test_the_embedded_default_makes_its_secret_key_once_and_keeps_it(tmp_path):
    first = Settings.from_env({"INSTANCE_PATH": str(tmp_path)})
    again = Settings.from_env({"INSTANCE_PATH": str(tmp_path)})
    assert first.secret_key == again.secret_key and len(first.secret_key) == 64
    assert oct((tmp_path / "secret_key").stat().st_mode & 0o777) == "0o600"
    assert first.database_url == f"sqlite:///{tmp_path / 'workflow.sqlite3'}"
    assert Settings.from_env({"INSTANCE_PATH": str(tmp_path), "SECRET_KEY": "given"}).secret_key == "given"


def test_processes_starting_together_agree_on_the_key(tmp_path):
    import subprocess
    import sys

    code = "from pathlib import Path; from app.settings import instance_secret_key as k; print(k(Path(%r)))"
    starting = [
        subprocess.Popen([sys.executable, "-c", code % str(tmp_path)], stdout=subprocess.PIPE, text=True)
        for _ in range(6)
    ]
    keys = {process.communicate(timeout=60)[0].strip() for process in starting}
    assert len(keys) == 1 and len(keys.pop()) == 64
    assert sorted(p.name for p in tmp_path.iterdir()) == ["secret_key"]  # no drafts left


def test_production_needs_its_secrets_and_makes_up_nothing(tmp_path):
    from app.settings import SettingsError

    with pytest.raises(SettingsError, match="needs SECRET_KEY and DATABASE_URL set"):
        Settings.from_env({"APP_ENV": "production", "INSTANCE_PATH": str(tmp_path)})
    with pytest.raises(SettingsError, match="needs DATABASE_URL set"):
        Settings.from_env({"APP_ENV": "production", "SECRET_KEY": "k"})
    assert not (tmp_path / "secret_key").exists()
    settings = Settings.from_env({"APP_ENV": "production", "SECRET_KEY": "k", "DATABASE_URL": "sqlite:///x"})
    assert settings.production and settings.log_format == "json"
    with pytest.raises(SettingsError, match="APP_ENV must be one of"):
        Settings.from_env({"APP_ENV": "staging"})
    with pytest.raises(SettingsError, match="LOG_FORMAT"):
        Settings.from_env({"LOG_FORMAT": "xml", "INSTANCE_PATH": str(tmp_path)})
