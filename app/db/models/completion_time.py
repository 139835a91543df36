from __future__ import annotations

import math
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from ..base import Base, intpk

# Durations are grouped in buckets 5 % wide, so that the reports' percentiles are read from a
# histogram (a few hundred rows) instead of ranking every duration of the period.
BUCKET_RATIO = 1.05


def bucket_of(seconds: int) -> int:
    """0 for under a second; else b, where BUCKET_RATIO ** (b - 1) <= seconds < BUCKET_RATIO ** b."""
    return 0 if seconds < 1 else math.floor(math.log(seconds) / math.log(BUCKET_RATIO)) + 1


class CompletionTime(Base):
    """How long a completed instance (`element_id` NULL) or one of its user tasks took: written
    once, when it completes, for the reports' cycle times. Withdrawn tasks and cancelled instances
    have none."""

    __tablename__ = "completion_times"
    __table_args__ = (
        # Covers the reports' query, in the order it groups by: the histogram of a period is read
        # from the index in one pass, with no sort (a range first would sort every row of it).
        Index("ix_completion_times_report", "model_id", "element_id", "bucket", "completed_at", "seconds"),
    )

    id: Mapped[intpk]
    instance_id: Mapped[int] = mapped_column(
        ForeignKey("process_instances.id", ondelete="CASCADE"), index=True
    )
    model_id: Mapped[str] = mapped_column(String(128))
    element_id: Mapped[str | None] = mapped_column(String(255))
    completed_at: Mapped[datetime]
    seconds: Mapped[int] = mapped_column(Integer)
    bucket: Mapped[int] = mapped_column(SmallInteger)
