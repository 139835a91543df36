"""The unit of work: one database transaction per use case, and the only commit()."""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType
from typing import TypeVar

from sqlalchemy.orm import Session, sessionmaker

from ..db.session import SQLITE_BEGIN_LATER, SQLiteWriteLock, begin_immediate, sqlite_write_lock

T = TypeVar("T")


class UnitOfWork:
    """`with UnitOfWork(factory, write=True) as uow:` ... `uow.commit()`.

    Leaving the block without commit() rolls everything back. A writing unit of work on
    SQLite takes the database's write lock at BEGIN; on PostgreSQL, services lock the rows
    they change with SELECT ... FOR UPDATE.
    """

    def __init__(self, session_factory: sessionmaker[Session], *, write: bool = False) -> None:
        self._session_factory = session_factory
        self._write = write
        self._write_lock: SQLiteWriteLock | None = None
        self._after_commit: list[Callable[[], None]] = []
        self.session: Session

    def __enter__(self) -> UnitOfWork:
        self.session = self._session_factory()
        bind = self.session.get_bind()
        if self._write and bind.dialect.name == "sqlite":
            # The connection comes from the pool before the lock is taken: other writers wait
            # only for what has to be done under it.
            connection = self.session.connection(execution_options={SQLITE_BEGIN_LATER: True})
            self._write_lock = sqlite_write_lock(bind)
            self._write_lock.acquire()
            try:
                begin_immediate(connection)
            except BaseException:
                self._release()
                raise
        return self

    def _release(self) -> None:
        if self._write_lock is not None:
            self._write_lock.release()
            self._write_lock = None

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        # close() returns the connection with its transaction rolled back, without expiring
        # the loaded objects one by one as rollback() would (views read them afterwards).
        try:
            self.session.close()
        finally:
            self._release()

    @property
    def is_postgresql(self) -> bool:
        return self.session.get_bind().dialect.name == "postgresql"

    def commit(self) -> None:
        self.session.commit()
        # The writing is over: let the next writer in while this one closes its session and
        # builds its answer (a later statement would begin a new, reading transaction).
        self._release()
        callbacks, self._after_commit = self._after_commit, []
        for callback in callbacks:
            callback()

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Run `callback` once this unit of work has committed (never if it rolls back)."""
        self._after_commit.append(callback)

    def add(self, obj: T) -> T:
        self.session.add(obj)
        return obj
