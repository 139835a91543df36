from __future__ import annotations

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
