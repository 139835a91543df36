"""Running Alembic migrations from code (the CLI, the run command and the tests), one process at a
time, and telling whether a database is at the code's schema (readiness)."""

from __future__ import annotations

import fcntl
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, text

from ..settings import PROJECT_ROOT

# Any number, the same in every process: the PostgreSQL advisory lock held while migrating.
_MIGRATION_LOCK = 7_262_026


def alembic_config(engine: Engine | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    _migrate(engine, lambda config: command.upgrade(config, revision))


def downgrade(engine: Engine, revision: str) -> None:
    _migrate(engine, lambda config: command.downgrade(config, revision))


def _migrate(engine: Engine, step: Callable[[Config], None]) -> None:
    """One transaction, with SQLite's foreign keys unenforced meanwhile and checked before the
    commit (`references_unenforced`)."""
    with engine.connect() as connection, references_unenforced(connection), connection.begin():
        config = alembic_config(engine)
        config.attributes["connection"] = connection
        step(config)
        check_references(connection)


@contextmanager
def references_unenforced(connection: Connection) -> Iterator[None]:
    """SQLite only: a batch migration rebuilds a table by copying it and dropping the old one,
    and with foreign keys enforced the drop would delete every row that refers to it (ON DELETE
    CASCADE): an instance's tasks, say. Set outside a transaction, where SQLite honours it."""
    if connection.dialect.name != "sqlite":
        yield
        return
    driver = connection.connection.driver_connection
    driver.execute("PRAGMA foreign_keys=OFF")
    try:
        yield
    finally:
        driver.execute("PRAGMA foreign_keys=ON")


def check_references(connection: Connection) -> None:
    """SQLite: refuse (roll back) a migration that left rows whose references are gone."""
    if connection.dialect.name == "sqlite":
        broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
        if broken:
            raise RuntimeError(f"the migration left rows whose references are gone: {broken[:5]}")


@contextmanager
def migration_lock(engine: Engine) -> Iterator[None]:
    """Held by one process at a time per database: a second `migrate` started meanwhile waits,
    then finds the schema current. PostgreSQL: an advisory lock of the session; SQLite: a lock on
    a file beside the database."""
    if engine.dialect.name == "postgresql":
        with engine.connect() as connection:
            connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": _MIGRATION_LOCK})
            connection.commit()
            try:
                yield
            finally:
                connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": _MIGRATION_LOCK})
                connection.commit()
        return
    database = engine.url.database
    if not database or database == ":memory:":
        yield
        return
    with open(Path(f"{database}.migrate-lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def head_revision() -> str:
    return ScriptDirectory.from_config(alembic_config()).get_current_head() or ""


def schema_problem(engine: Engine) -> str | None:
    """None when the database answers and is at the code's migration head; else what is wrong."""
    try:
        with engine.connect() as connection:
            current = MigrationContext.configure(connection).get_current_revision()
    except Exception as exc:  # noqa: BLE001 - any failure to reach the database means not ready
        return f"the database does not answer: {type(exc).__name__}"
    scripts = ScriptDirectory.from_config(alembic_config())
    head = scripts.get_current_head() or ""
    if current == head:
        return None
    if current is not None and not _known(scripts, current):
        # Migrated by a newer release, which only adds: this code still runs on it (a rolling
        # deploy migrates first, then replaces the servers; they stay in service meanwhile).
        return None
    return f"the database is at revision {current or 'none'}, the code needs {head}: run migrate"


def _known(scripts: ScriptDirectory, revision: str) -> bool:
    try:
        return scripts.get_revision(revision) is not None
    except Exception:  # noqa: BLE001 - alembic raises its own errors for an unknown revision
        return False
