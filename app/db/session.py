"""Engine and session factory; built by create_app or the CLI, never at import time."""

from __future__ import annotations

import threading
import weakref
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

# Execution option asking SQLite to take its write lock when the transaction begins, so that
# two read-modify-write transactions on one instance are serialised instead of overwriting.
SQLITE_IMMEDIATE = "sqlite_begin_immediate"


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not pysqlite, decide when transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        immediate = connection.get_execution_options().get(SQLITE_IMMEDIATE)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


_write_locks: weakref.WeakKeyDictionary[Engine, threading.RLock] = weakref.WeakKeyDictionary()
_write_locks_guard = threading.Lock()


def sqlite_write_lock(engine: Engine) -> threading.RLock:
    """One lock per SQLite engine that writing units of work take before BEGIN IMMEDIATE.

    SQLite's own busy handler waits for a held write lock by sleeping in growing steps (up to
    100 ms), so threads of one process that queue on it lose most of their time asleep; a Python
    lock hands the database over as soon as it is free. Other processes still meet the busy
    handler."""
    with _write_locks_guard:
        lock = _write_locks.get(engine)
        if lock is None:
            lock = _write_locks[engine] = threading.RLock()
        return lock


def make_engine(url: str, **kwargs: Any) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False}, **kwargs)
        _configure_sqlite(engine)
        return engine
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 20)
    # A dead connection is replaced after its first failure rather than by pinging before every
    # checkout, which would cost a round trip per unit of work.
    kwargs.setdefault("pool_recycle", 1800)
    return create_engine(url, **kwargs)


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)
