"""The audit log: every state change writes exactly one record in its own transaction."""

from __future__ import annotations

import json
from contextvars import ContextVar
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select

from ..db.models import AuditRecord
from .uow import UnitOfWork


def json_safe(value: Any) -> Any:
    """Task data as plain JSON (dates become ISO strings)."""
    return json.loads(json.dumps(value, default=str))


_INSERT = insert(AuditRecord.__table__)
# The id of the HTTP request being served, set by the web adapter: the records it writes carry it,
# so that a record leads to the request's log line. None for the scheduler and the CLI.
REQUEST_ID: ContextVar[str | None] = ContextVar("request_id", default=None)


def record(
    uow: UnitOfWork,
    *,
    at: datetime,
    actor: str,
    action: str,
    instance_id: int | None = None,
    task_id: str | None = None,
    element_id: str | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    # A Core insert: records are never read back in the transaction that writes them.
    uow.session.connection().execute(
        _INSERT,
        {
            "at": at,
            "actor": actor,
            "action": action,
            "instance_id": instance_id,
            "task_id": task_id,
            "element_id": element_id,
            "details": details or {},  # the JSON column stores dates as text (make_engine)
            "request_id": REQUEST_ID.get(),
        },
    )


def instance_history(uow: UnitOfWork, instance_id: int) -> list[AuditRecord]:
    query = select(AuditRecord).where(AuditRecord.instance_id == instance_id).order_by(AuditRecord.id)
    return list(uow.session.scalars(query))
