"""SQLite's write lock is handed over among processes by a file lock, not by sleeping retries."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

from sqlalchemy import text

from app.db.session import make_engine, make_session_factory, sqlite_write_lock
from app.services.uow import UnitOfWork

TRY_LOCK = textwrap.dedent(
    """
    import fcntl, os, sys
    fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        sys.exit(3)
    """
)


def _other_process_may_write(lock_path: Path) -> bool:
    result = subprocess.run([sys.executable, "-c", TRY_LOCK, str(lock_path)], timeout=30)
    assert result.returncode in (0, 3)
    return result.returncode == 0


def test_a_held_write_lock_excludes_other_processes_until_released(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    lock_path = tmp_path / "db.sqlite3.write-lock"
    try:
        lock = sqlite_write_lock(engine)
        assert sqlite_write_lock(engine) is lock  # one per engine
        with lock:
            with lock:  # re-entered by the same thread (a nested unit of work)
                pass
            assert not _other_process_may_write(lock_path)  # still held after the inner release
        assert _other_process_may_write(lock_path)
    finally:
        engine.dispose()


def test_threads_of_one_process_take_turns(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    lock = sqlite_write_lock(engine)
    inside: list[int] = []
    overlaps: list[int] = []

    def writer(n: int) -> None:
        for _ in range(20):
            with lock:
                inside.append(n)
                if len(inside) > 1:
                    overlaps.append(n)
                time.sleep(0.0005)
                inside.remove(n)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    engine.dispose()
    assert overlaps == []


def test_an_in_memory_database_has_no_lock_file(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    engine = make_engine("sqlite://")
    with sqlite_write_lock(engine):
        pass
    engine.dispose()
    assert list(tmp_path.iterdir()) == []


def test_a_unit_of_work_lets_go_of_the_lock_once_it_has_committed(tmp_path: Path) -> None:
    """The next writer need not wait while this one closes its session and builds its answer."""
    engine = make_engine(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    lock_path = tmp_path / "db.sqlite3.write-lock"
    try:
        with engine.begin() as connection:
            connection.execute(text("CREATE TABLE t (n INTEGER)"))
        with UnitOfWork(make_session_factory(engine), write=True) as uow:
            uow.session.execute(text("INSERT INTO t VALUES (1)"))
            assert not _other_process_may_write(lock_path)
            uow.commit()
            assert _other_process_may_write(lock_path)
            assert uow.session.execute(text("SELECT n FROM t")).scalar_one() == 1  # reads go on
        assert _other_process_may_write(lock_path)
    finally:
        engine.dispose()
