from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from ..base import Base, intpk, json_value, str64


class AuditRecord(Base):
    """Append-only: who did what, when, on which instance or task, with which data."""

    __tablename__ = "audit_log"

    id: Mapped[intpk]
    at: Mapped[datetime] = mapped_column(index=True)
    actor: Mapped[str64]
    action: Mapped[str64] = mapped_column(index=True)
    instance_id: Mapped[int | None] = mapped_column(index=True)
    task_id: Mapped[str | None] = mapped_column(String(36))
    element_id: Mapped[str | None] = mapped_column(String(255))
    details: Mapped[json_value] = mapped_column(default=dict)
    # The HTTP request that made the change (its X-Request-ID), as its log line has it.
    request_id: Mapped[str | None] = mapped_column(String(64))
