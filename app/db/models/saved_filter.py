from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from ..base import Base, intpk, json_value, str255


class SavedFilter(Base):
    """A named inbox query of a user, optionally shared with one of their groups."""

    __tablename__ = "saved_filters"

    id: Mapped[intpk]
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str255]
    query: Mapped[json_value] = mapped_column(default=dict)
    shared_group: Mapped[str | None] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime]
