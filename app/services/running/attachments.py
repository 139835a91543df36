"""Files uploaded with task forms, stored with their process instance."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from ...db.models import Attachment, AuditRecord, HumanTask, ProcessInstance
from ...errors import Forbidden, InvalidInput, NotFound
from .. import audit
from ..context import ServiceContext
from ..people.users import Actor
from ..uow import UnitOfWork
from ..work.task_groups import in_groups_of, other_groups


@dataclass(frozen=True)
class AttachmentInfo:
    id: str
    instance_id: int
    task_id: str | None
    field: str | None
    filename: str
    content_type: str
    size: int
    uploaded_by: str
    uploaded_at: datetime


def _info(row: Attachment) -> AttachmentInfo:
    return AttachmentInfo(
        row.id,
        row.instance_id,
        row.task_id,
        row.field,
        row.filename,
        row.content_type,
        row.size,
        row.uploaded_by,
        row.uploaded_at,
    )


def _may_access(uow: UnitOfWork, actor: Actor, instance: ProcessInstance) -> bool:
    """Administrators, the initiator, anyone who acted on the instance or may act on one of its tasks."""
    if actor.is_admin or instance.started_by == actor.username:
        return True
    tasks = list(uow.session.execute(select(HumanTask).where(HumanTask.instance_id == instance.id)).scalars())
    others = other_groups(uow, [t.id for t in tasks])
    for task in tasks:
        if task.assignee_id == actor.user_id:
            return True
        if task.assignee_id is None and in_groups_of(actor, task, others.get(task.id, ())):
            return True
    acted = select(AuditRecord.id).where(
        AuditRecord.instance_id == instance.id, AuditRecord.actor == actor.username
    )
    return uow.session.scalars(acted.limit(1)).first() is not None


def _instance(uow: UnitOfWork, actor: Actor, instance_id: int) -> ProcessInstance:
    instance = uow.session.get(ProcessInstance, instance_id)
    if instance is None:
        raise NotFound(f"process instance {instance_id} not found")
    if not _may_access(uow, actor, instance):
        raise Forbidden("you take no part in this process instance")
    return instance


def add_attachment(
    ctx: ServiceContext,
    actor: Actor,
    *,
    instance_id: int,
    filename: str,
    content_type: str,
    content: bytes,
    task_id: str | None = None,
    field: str | None = None,
) -> AttachmentInfo:
    name = (filename or "").replace("\\", "/").rsplit("/", 1)[-1].strip()[:255]
    if not name or not content:
        raise InvalidInput("empty file", [{"field": field or "$", "message": "the file is empty"}])
    if len(content) > ctx.settings.max_upload_bytes:
        raise InvalidInput("file too large", [{"field": field or "$", "message": "the file is too large"}])
    with ctx.uow(write=True) as uow:
        instance = _instance(uow, actor, instance_id)
        row = uow.add(
            Attachment(
                id=str(uuid.uuid4()),
                instance_id=instance.id,
                task_id=task_id,
                field=field,
                filename=name,
                content_type=(content_type or "application/octet-stream")[:255],
                size=len(content),
                content=content,
                uploaded_by=actor.username,
                uploaded_at=ctx.now(),
            )
        )
        audit.record(
            uow,
            at=ctx.now(),
            actor=actor.username,
            action="attachment.added",
            instance_id=instance.id,
            task_id=task_id,
            details={"id": row.id, "filename": name, "size": len(content), "field": field},
        )
        info = _info(row)
        uow.commit()
    return info


def list_attachments(ctx: ServiceContext, actor: Actor, instance_id: int) -> list[AttachmentInfo]:
    with ctx.uow() as uow:
        _instance(uow, actor, instance_id)
        columns = [c for c in Attachment.__table__.c if c.name != "content"]
        rows = uow.session.execute(
            select(*columns).where(Attachment.instance_id == instance_id).order_by(Attachment.uploaded_at)
        )
        return [
            AttachmentInfo(
                r.id,
                r.instance_id,
                r.task_id,
                r.field,
                r.filename,
                r.content_type,
                r.size,
                r.uploaded_by,
                r.uploaded_at,
            )
            for r in rows
        ]


def get_attachment(ctx: ServiceContext, actor: Actor, attachment_id: str) -> tuple[AttachmentInfo, bytes]:
    with ctx.uow() as uow:
        row = uow.session.get(Attachment, attachment_id)
        if row is None:
            raise NotFound(f"attachment {attachment_id} not found")
        _instance(uow, actor, row.instance_id)
        return _info(row), row.content
