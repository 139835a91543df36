from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..base import Base, intpk, json_value, str64
from .definition import ProcessVersion

STATUSES = ("running", "complete", "cancelled", "error", "suspended")


class ProcessInstance(Base):
    __tablename__ = "process_instances"
    __table_args__ = (
        Index("ix_process_instances_model_status", "model_id", "status"),
        # With the process: the reports count instances started and ended per week from the index.
        Index("ix_process_instances_created_at", "created_at", "model_id"),
        Index("ix_process_instances_updated_at", "updated_at"),
        Index("ix_process_instances_started_by", "started_by"),
        Index("ix_process_instances_ended_at", "ended_at", "model_id"),
    )

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
    # What people call the case (an appeal's registration number): the variable the process's
    # `business_key` property names, as its data last held it.
    business_key: Mapped[str | None] = mapped_column(String(255), index=True)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    # When it completed or was cancelled: the reports' weeks and cycle times.
    ended_at: Mapped[datetime | None]
    row_version: Mapped[int] = mapped_column(Integer, nullable=False)

    version: Mapped[ProcessVersion] = relationship()

    __mapper_args__ = {"version_id_col": row_version}


class InstanceValue(Base):
    """A variable an instance's process lists in its `searchable` property, as the instance's data
    last held it, so that instances are found by it through an index rather than by reading them."""

    __tablename__ = "instance_values"
    __table_args__ = (Index("ix_instance_values_name_value", "name", "value"),)

    instance_id: Mapped[int] = mapped_column(
        ForeignKey("process_instances.id", ondelete="CASCADE"), primary_key=True
    )
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(255))


class InstanceLogLine(Base):
    """What a diagram's code wrote with print(): one row per evaluation that printed, for the
    instance page (written with the step that ran the code, in its transaction)."""

    __tablename__ = "instance_log"

    id: Mapped[intpk]
    instance_id: Mapped[int] = mapped_column(
        ForeignKey("process_instances.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime]
    element_id: Mapped[str | None] = mapped_column(String(255))
    text: Mapped[str] = mapped_column(Text)
