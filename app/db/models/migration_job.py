from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from ..base import Base, intpk, json_value, str64


class MigrationJob(Base):
    """Moving every running instance of a version to another, one instance after another; its
    counters and per-instance results are written as it goes, so it can be watched."""

    __tablename__ = "migration_jobs"

    id: Mapped[intpk]
    model_id: Mapped[str] = mapped_column(String(128), index=True)
    from_version: Mapped[int]
    to_version: Mapped[int]
    requested_by: Mapped[str64]
    status: Mapped[str] = mapped_column(String(16))  # running, done
    instance_ids: Mapped[json_value] = mapped_column(default=list)
    results: Mapped[json_value] = mapped_column(default=list)  # {instance_id, outcome, message}
    created_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    # The process moving the instances, and when it last wrote a result: a job whose process died
    # (a server restarted) stops writing, and a scheduler takes it over where it stopped.
    runner: Mapped[str | None] = mapped_column(String(64))
    heartbeat_at: Mapped[datetime | None]
