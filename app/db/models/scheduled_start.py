from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..base import Base, intpk, str255


class ScheduledStart(Base):
    """A timer start event of the latest version of a process: the scheduler starts an instance
    at each due time. `due_at` is None once the schedule is over or the version superseded."""

    __tablename__ = "scheduled_starts"
    __table_args__ = (UniqueConstraint("version_id", "element_id"),)

    id: Mapped[intpk]
    model_id: Mapped[str] = mapped_column(String(128), index=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("process_versions.id", ondelete="CASCADE"), index=True)
    element_id: Mapped[str255]
    due_at: Mapped[datetime | None] = mapped_column(index=True)
    # None: one start; n > 0: n more starts `period_seconds` apart; negative: no end.
    cycles_left: Mapped[int | None]
    period_seconds: Mapped[float | None]
