from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..base import Base, intpk, json_value, str64
from .definition import ProcessVersion

STATUSES = ("running", "complete", "cancelled", "error", "suspended")


class ProcessInstance(Base):
    __tablename__ = "process_instances"
    __table_args__ = (Index("ix_process_instances_model_status", "model_id", "status"),)

    id: Mapped[intpk]
    model_id: Mapped[str] = mapped_column(String(128), index=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("process_versions.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), index=True)
    state_json: Mapped[str] = mapped_column(Text)
    data: Mapped[json_value] = mapped_column(default=dict)
    element_states: Mapped[json_value] = mapped_column(default=dict)
    error_element: Mapped[str | None] = mapped_column(String(255))
    error_message: Mapped[str | None] = mapped_column(Text)
    started_by: Mapped[str64]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    row_version: Mapped[int] = mapped_column(Integer, nullable=False)

    version: Mapped[ProcessVersion] = relationship()

    __mapper_args__ = {"version_id_col": row_version}
