from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, String
from sqlalchemy.orm import Mapped, mapped_column

from ..base import Base, intpk, str64, str255

TRANSFER_KINDS = ("holiday", "working_day")


class CalendarTransfer(Base):
    """A day administrators declared a day off or a working day: a government transfer decreed
    after the `holidays` package was released. Read into the working-day calendar."""

    __tablename__ = "calendar_transfers"

    id: Mapped[intpk]
    day: Mapped[date] = mapped_column(Date, unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    note: Mapped[str255] = mapped_column(default="")
    created_by: Mapped[str64]
    created_at: Mapped[datetime]
