"""Engine and session factory; built by create_app or the CLI, never at import time."""

from __future__ import annotations

import fcntl
import json
import os
import threading
import weakref
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

# Execution option of a writing unit of work's connection: no BEGIN when SQLAlchemy begins the
# transaction, since the unit of work emits BEGIN IMMEDIATE itself once it holds the write lock.
SQLITE_BEGIN_LATER = "sqlite_begin_later"


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
    def _on_begin(connection: Connection) -> None:
        if not connection.get_execution_options().get(SQLITE_BEGIN_LATER):
            _driver_execute(connection, "BEGIN")


def _driver_execute(connection: Connection, statement: str) -> None:
    # Straight to the driver: SQLAlchemy's statement machinery costs several times more than a
    # BEGIN itself, on every unit of work.
    connection.connection.driver_connection.execute(statement)


def begin_immediate(connection: Connection) -> None:
    """Begin the transaction of a connection checked out with SQLITE_BEGIN_LATER, taking SQLite's
    write lock at once: two read-modify-write transactions on one instance are serialised
    instead of one overwriting the other."""
    _driver_execute(connection, "BEGIN IMMEDIATE")


class SQLiteWriteLock:
    """Taken by writing units of work before BEGIN IMMEDIATE: one writer at a time, handed over
    as soon as it is free, among the threads of this process and among processes.

    SQLite's own busy handler waits for a held write lock by sleeping in growing steps (up to
    100 ms), so writers that queue on it lose most of their time asleep. A thread lock orders
    this process's threads; an exclusive `flock` on a file beside the database orders the
    processes (several serving workers, a separate scheduler), and the kernel wakes the next
    waiter at once. An in-memory database has no file and no other process."""

    def __init__(self, database_path: str | None) -> None:
        self._thread_lock = threading.RLock()
        self._depth = 0
        self._lock_path = f"{database_path}.write-lock" if database_path else None
        self._lock_file: int | None = None

    def acquire(self) -> None:
        self._thread_lock.acquire()
        try:
            if self._depth == 0 and self._lock_path:
                if self._lock_file is None:
                    self._lock_file = os.open(self._lock_path, os.O_RDWR | os.O_CREAT, 0o600)
                fcntl.flock(self._lock_file, fcntl.LOCK_EX)
        except BaseException:
            self._thread_lock.release()
            raise
        self._depth += 1

    def release(self) -> None:
        self._depth -= 1
        try:
            if self._depth == 0 and self._lock_file is not None:
                fcntl.flock(self._lock_file, fcntl.LOCK_UN)
        finally:
            self._thread_lock.release()

    def __enter__(self) -> SQLiteWriteLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


_write_locks: weakref.WeakKeyDictionary[Engine, SQLiteWriteLock] = weakref.WeakKeyDictionary()
_write_locks_guard = threading.Lock()


def sqlite_write_lock(engine: Engine) -> SQLiteWriteLock:
    """The write lock of an SQLite engine's database (one per engine in a process)."""
    with _write_locks_guard:
        lock = _write_locks.get(engine)
        if lock is None:
            database = engine.url.database
            on_disk = bool(database) and database != ":memory:" and not database.startswith("file:")
            lock = _write_locks[engine] = SQLiteWriteLock(os.path.abspath(database) if on_disk else None)
        return lock


def _json_text(value: Any) -> str:
    # JSON columns hold what the application gives them; a value JSON has no type for (a date in
    # task data, say) is stored as its text rather than failing the transaction.
    return json.dumps(value, default=str)


def make_engine(url: str, **kwargs: Any) -> Engine:
    kwargs.setdefault("json_serializer", _json_text)
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
