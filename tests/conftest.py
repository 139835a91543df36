"""Fixtures: a migrated database (SQLite file, and PostgreSQL when TEST_DATABASE_URL is set),
the application with a manual clock, and helpers to make users and tokens."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

import pytest
from sqlalchemy import text
from werkzeug.security import generate_password_hash

from app import create_app
from app.db.base import Base
from app.db.migrate import upgrade
from app.db.session import make_engine, make_session_factory
from app.engine.clock import ManualClock, SystemClock, use_clock
from app.services.context import ServiceContext
from app.services.modelling import deployments
from app.services.people import users
from app.services.people.users import SYSTEM
from app.settings import Settings

FIXTURES = Path(__file__).parent / "fixtures"
APPROVAL = ("approval.bpmn", "approval_review.schema.json", "approval_review.uischema.json")
TIMER_KINDS = (
    "timer_intermediate",
    "timer_boundary_interrupting",
    "timer_boundary_noninterrupting",
    "timer_boundary_cycle",
)
START = datetime(2026, 3, 2, 5, 0, tzinfo=UTC)  # Monday 10:00 in Almaty
BACKENDS = ["sqlite"] + (["postgresql"] if os.environ.get("TEST_DATABASE_URL") else [])


@pytest.fixture(autouse=True)
def fast_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """scrypt costs 0.1 s per hash and tests create many users: hash them cheaply."""
    monkeypatch.setattr(
        users, "generate_password_hash", partial(generate_password_hash, method="pbkdf2:sha256:1000")
    )


@pytest.fixture
def timer_models(ctx: ServiceContext) -> users.Actor:
    """The timer fixtures deployed; returns an administrator."""
    actor = make_user(ctx, "ada", ["admins"])
    for kind in TIMER_KINDS:
        deployments.deploy(ctx, SYSTEM, read_fixture(f"{kind}.bpmn"))
    return actor


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    url = os.environ["TEST_DATABASE_URL"]
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    upgrade(engine)
    engine.dispose()
    yield url


def _truncate_postgres(url: str) -> None:
    engine = make_engine(url)
    tables = ", ".join(t.name for t in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "postgresql":
        url = request.getfixturevalue("postgres_url")
        _truncate_postgres(url)
        return url
    path = tmp_path / "test.sqlite3"
    shutil.copy(request.getfixturevalue("sqlite_template"), path)
    return f"sqlite:///{path}"


@pytest.fixture
def clock() -> Iterator[ManualClock]:
    manual = ManualClock(START)
    use_clock(manual)
    yield manual
    use_clock(SystemClock())


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=database_url,
        secret_key="test-secret",
        bpmn_dir=FIXTURES,
        forms_dir=FIXTURES,
        script_cpu_seconds=1.0,
    )


@pytest.fixture
def ctx(settings: Settings, clock: ManualClock) -> Iterator[ServiceContext]:
    engine = make_engine(settings.database_url)
    yield ServiceContext(make_session_factory(engine), settings, clock=clock)
    engine.dispose()


@pytest.fixture
def app(settings: Settings, clock: ManualClock):
    application = create_app(settings, clock=clock)
    application.config["TESTING"] = True
    yield application
    application.extensions["db_engine"].dispose()


@pytest.fixture
def client(app):
    return app.test_client()


def make_user(
    ctx: ServiceContext, username: str, groups: list[str], leads: list[str] | None = None
) -> users.Actor:
    users.create_user(
        ctx, SYSTEM, username=username, password="password123", groups=groups, leads=leads or []
    )
    return users.actor_for(ctx, username)


def read_fixture(*names: str) -> dict[str, bytes]:
    return {name: (FIXTURES / name).read_bytes() for name in names}
