from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from ..base import Base, intpk, json_value, str64, str255


class WaitingTimer(Base):
    """A timer an instance waits for; kept in step with each saved instance."""

    __tablename__ = "waiting_timers"

    id: Mapped[intpk]
    instance_id: Mapped[int] = mapped_column(
        ForeignKey("process_instances.id", ondelete="CASCADE"), index=True
    )
    task_id: Mapped[str] = mapped_column(String(36))
    element_id: Mapped[str255]
    due_at: Mapped[datetime] = mapped_column(index=True)
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claim_expires_at: Mapped[datetime | None]


class MessageSubscription(Base):
    """A message an instance waits for, with the correlation values it expects."""

    __tablename__ = "message_subscriptions"

    id: Mapped[intpk]
    instance_id: Mapped[int] = mapped_column(
        ForeignKey("process_instances.id", ondelete="CASCADE"), index=True
    )
    message_name: Mapped[str255] = mapped_column(index=True)
    correlations: Mapped[json_value] = mapped_column(default=dict)


class HeldMessage(Base):
    """A message for an instance that is suspended: delivered, in order, when it is resumed."""

    __tablename__ = "held_messages"

    id: Mapped[intpk]
    instance_id: Mapped[int] = mapped_column(
        ForeignKey("process_instances.id", ondelete="CASCADE"), index=True
    )
    message_name: Mapped[str255]
    correlations: Mapped[json_value] = mapped_column(default=dict)
    payload: Mapped[json_value] = mapped_column(default=dict)
    sent_by: Mapped[str64]
    received_at: Mapped[datetime]
