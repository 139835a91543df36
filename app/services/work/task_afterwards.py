"""What became of a task that can no longer be completed, so that a page can say what happened,
when and by whom, and keep what the person typed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from ...db.models import AuditRecord, ClosedTask, HumanTask, ProcessInstance, User
from ...engine import spec_properties
from ...errors import NotFound
from ..context import ServiceContext
from ..modelling.deployments import form_of, specs_by_id
from ..people.users import Actor
from ..running.instances import may_read

# What happened, in the order the checks find it.
COMPLETED, CLAIMED, WITHDRAWN, INSTANCE_ENDED = "completed", "claimed", "withdrawn", "instance_ended"
SUSPENDED = "suspended"
CLAIMS = ("task.claimed", "task.assigned")


@dataclass(frozen=True)
class Afterwards:
    task_id: str
    instance_id: int
    model_id: str
    element_id: str | None
    what: str  # completed | claimed | withdrawn (the step it belonged to ended) | instance_ended
    at: datetime | None
    by: str | None  # who completed or claimed it
    sent: dict[str, Any] | None  # what the person asking sent, when they completed it themselves
    instance_status: str
    poll_result: dict[str, Any] | None  # a Council decision the task belonged to, once taken
    form: dict[str, Any] | None  # {"schema", "ui_schema"} of the task's form, to show values


def afterwards(ctx: ServiceContext, actor: Actor, task_id: str) -> Afterwards:
    """NotFound when the task never existed or the actor may not read its instance."""
    with ctx.uow() as uow:
        of_task = select(AuditRecord).where(AuditRecord.task_id == task_id)
        records = list(uow.session.scalars(of_task.order_by(AuditRecord.at, AuditRecord.id)))
        row = uow.session.get(HumanTask, task_id)
        closed = uow.session.get(ClosedTask, task_id) if row is None else None
        known = row or closed or (records[0] if records else None)
        instance_id = known.instance_id if known is not None else None
        instance = uow.session.get(ProcessInstance, instance_id) if instance_id is not None else None
        if instance is None or not may_read(actor, instance):
            raise NotFound(f"task {task_id} not found")
        element_id = known.element_id if known is not None else None
        done = next((r for r in reversed(records) if r.action == "task.completed"), None)
        if done is not None:
            what, at, by = COMPLETED, done.at, done.actor
        elif row is not None and instance.status == SUSPENDED:
            suspended = uow.session.scalars(
                select(AuditRecord)
                .where(AuditRecord.instance_id == instance.id, AuditRecord.action == "instance.suspended")
                .order_by(AuditRecord.id.desc())
            ).first()
            what, at = SUSPENDED, suspended.at if suspended else instance.updated_at
            by = suspended.actor if suspended else None
        elif row is not None:
            claim = next((r for r in reversed(records) if r.action in CLAIMS), None)
            holder = uow.session.get(User, row.assignee_id) if row.assignee_id else None
            what, at, by = CLAIMED, claim.at if claim else None, holder.username if holder else None
        elif instance.status in ("complete", "cancelled", "error"):
            what, at, by = INSTANCE_ENDED, instance.updated_at, None
        else:
            what, at, by = WITHDRAWN, closed.closed_at if closed else instance.updated_at, None
        sent = done.details.get("data") if done is not None and done.actor == actor.username else None
        properties = spec_properties.element_properties(
            specs_by_id(ctx, uow, instance.version_id), element_id or ""
        )
        schema_file = properties.get("formJsonSchemaFilename")
        ui_file = properties.get("formUiSchemaFilename")
        form = (
            {
                "schema": form_of(ctx, uow, instance.version_id, schema_file),
                "ui_schema": form_of(ctx, uow, instance.version_id, ui_file) if ui_file else None,
            }
            if schema_file
            else None
        )
        result = (instance.data or {}).get("poll_result")
        return Afterwards(
            task_id=task_id,
            instance_id=instance.id,
            model_id=instance.model_id,
            element_id=element_id,
            what=what,
            at=at,
            by=by,
            sent=sent if isinstance(sent, dict) else None,
            instance_status=instance.status,
            poll_result=result if isinstance(result, dict) and result.get("outcome") else None,
            form=form,
        )
