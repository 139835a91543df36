from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, Integer
from sqlalchemy.orm import Mapped, mapped_column

from ..base import Base, intpk, json_value, str64

DEFAULT_LEAD_DAYS = 60


class RotationTerm(Base):
    """The current term of the Deputy Chairmen from ethno-cultural associations: one row.

    The scheduler starts `deputy_rotation` at `next_start_at` (`lead_days` before `term_end`) and
    records the instance in `next_rotation_instance_id`, so each term is rotated once. A completed
    rotation instance (up to `recorded_instance_id`) replaces the term with the appointment."""

    __tablename__ = "rotation_terms"

    id: Mapped[intpk]
    deputies: Mapped[json_value] = mapped_column(default=list)
    term_start: Mapped[date | None] = mapped_column(Date)
    term_end: Mapped[date] = mapped_column(Date)
    term_months: Mapped[int] = mapped_column(Integer, default=12)
    lead_days: Mapped[int] = mapped_column(Integer, default=DEFAULT_LEAD_DAYS)
    next_start_at: Mapped[datetime | None] = mapped_column(index=True)
    next_rotation_instance_id: Mapped[int | None] = mapped_column(Integer)
    recorded_instance_id: Mapped[int | None] = mapped_column(Integer)
    updated_by: Mapped[str64]
    updated_at: Mapped[datetime]
