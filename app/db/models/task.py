from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..base import Base, json_value, str255


class HumanTask(Base):
    """One row per READY human task: the inbox reads only this table."""

    __tablename__ = "human_tasks"
    __table_args__ = (
        # "available to my groups": unassigned tasks of some groups, oldest first
        Index("ix_human_tasks_group_assignee_created", "group_name", "assignee_id", "created_at"),
        Index("ix_human_tasks_model_created", "model_id", "created_at"),
        Index("ix_human_tasks_assignee_created", "assignee_id", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    instance_id: Mapped[int] = mapped_column(
        ForeignKey("process_instances.id", ondelete="CASCADE"), index=True
    )
    model_id: Mapped[str] = mapped_column(String(128))
    element_id: Mapped[str255]
    name: Mapped[str255]
    titles: Mapped[json_value] = mapped_column(default=dict)
    lane: Mapped[str | None] = mapped_column(String(64))
    group_name: Mapped[str | None] = mapped_column(String(64))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # Reserved by the diagram for one person (a ballot): only an admin or a lead may reassign it.
    reserved: Mapped[bool] = mapped_column(default=False)
    form_schema: Mapped[str | None] = mapped_column(String(255))
    form_ui_schema: Mapped[str | None] = mapped_column(String(255))
    instructions: Mapped[str | None] = mapped_column(Text)
    # The instructions in the model's other languages ({"kk": ..., "ru": ...}; English above).
    instruction_texts: Mapped[json_value] = mapped_column(default=dict)
    created_at: Mapped[datetime]
    due_at: Mapped[datetime | None] = mapped_column(index=True)


class HumanTaskGroup(Base):
    """A group whose members may also take a task besides its lane's group (the user task's
    property `other_groups`): a deputy head who may decide what the head decides."""

    __tablename__ = "human_task_groups"

    group_name: Mapped[str] = mapped_column(String(64), primary_key=True)
    task_id: Mapped[str] = mapped_column(
        ForeignKey("human_tasks.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class ClosedTask(Base):
    """A human task no longer open, with its instance: the pages can then say what became of a
    task someone still has open in a browser, even when no one completed it (a ballot withdrawn
    when the poll closed early, a case cancelled)."""

    __tablename__ = "closed_tasks"

    task_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    instance_id: Mapped[int] = mapped_column(
        ForeignKey("process_instances.id", ondelete="CASCADE"), index=True
    )
    element_id: Mapped[str255]
    closed_at: Mapped[datetime]
