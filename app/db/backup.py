"""An online, consistent copy of the SQLite database (SQLite's backup API), taken while the
server runs: in WAL mode the copy reads one snapshot and writers go on meanwhile."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlalchemy import Engine


def backup_sqlite(engine: Engine, target: Path) -> int:
    """Copy the engine's SQLite database to `target` (a new file); the number of pages copied."""
    if engine.dialect.name != "sqlite":
        raise ValueError("`backup` copies an SQLite database; for PostgreSQL use pg_dump (see the README)")
    source_path = engine.url.database
    if not source_path or source_path == ":memory:":
        raise ValueError("the database is not a file")
    if target.exists():
        raise ValueError(f"{target} exists already: name a new file")
    target.parent.mkdir(parents=True, exist_ok=True)
    source = sqlite3.connect(f"file:{source_path}?mode=ro", uri=True, timeout=30)
    copy = sqlite3.connect(target)
    try:
        source.backup(copy)  # every page in one step: one snapshot of the source
        copy.execute("PRAGMA journal_mode=WAL")
        return int(copy.execute("PRAGMA page_count").fetchone()[0])
    finally:
        copy.close()
        source.close()
