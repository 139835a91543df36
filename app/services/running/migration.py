"""Moving running instances to another version of their process (administrators): a preview of
what it means for an instance, and the move itself, under the instance's row lock, in one
transaction and one audit record (`instance.migrated`, from and to version, who)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from ...db.models import ProcessInstance, ProcessVersion
from ...engine import migration
from ...engine.errors import EngineError
from ...errors import Conflict, NotFound
from .. import audit
from ..context import ServiceContext
from ..modelling.deployments import specs_by_id
from ..people.users import Actor
from ..uow import UnitOfWork
from .instance_store import capture, load_workflow, lock_instance, save_workflow
from .instances import instance_view
from .side_tables import refresh_task_specs
from .states import SUSPENDED

MOVABLE_STATUSES = ("running", SUSPENDED)


def _target(uow: UnitOfWork, instance: ProcessInstance, version: int) -> ProcessVersion:
    row = uow.session.scalars(
        select(ProcessVersion).where(
            ProcessVersion.model_id == instance.model_id, ProcessVersion.version == version
        )
    ).first()
    if row is None:
        raise NotFound(f"process model '{instance.model_id}' has no version {version}")
    return row


def _plan(
    ctx: ServiceContext, uow: UnitOfWork, instance: ProcessInstance, version: int
) -> tuple[ProcessVersion, Any, migration.MigrationPlan]:
    target = _target(uow, instance, version)
    workflow = load_workflow(ctx, uow, instance)
    reasons: list[str] = []
    if instance.status not in MOVABLE_STATUSES:
        reasons.append(f"the instance is {instance.status}: only running or suspended instances move")
    if target.id == instance.version_id:
        reasons.append(f"the instance is on version {version} already")
    found = migration.plan(workflow, specs_by_id(ctx, uow, target.id))
    if reasons:
        found = migration.MigrationPlan(
            False, (*reasons, *found.reasons), found.removed, found.changed, found.added
        )
    return target, workflow, found


def _view(
    instance: ProcessInstance, from_version: int, to_version: int, found: migration.MigrationPlan
) -> dict[str, Any]:
    return {
        "instance_id": instance.id,
        "from_version": from_version,
        "to_version": to_version,
        "movable": found.movable,
        "reasons": list(found.reasons),
        "removed": list(found.removed),
        "changed": list(found.changed),
        "added": list(found.added),
    }


def preview(ctx: ServiceContext, actor: Actor, instance_id: int, version: int) -> dict[str, Any]:
    """Whether the instance can move to `version`, why not, and what changes for it."""
    actor.require_admin()
    with ctx.uow() as uow:
        instance = uow.session.get(ProcessInstance, instance_id)
        if instance is None:
            raise NotFound(f"process instance {instance_id} not found")
        _, _, found = _plan(ctx, uow, instance, version)
        return _view(instance, instance.version.version, version, found)


def migrate_instance(ctx: ServiceContext, actor: Actor, instance_id: int, version: int) -> dict[str, Any]:
    """Move one instance to `version`; 409 with the reasons when it cannot move."""
    actor.require_admin()
    with ctx.uow(write=True) as uow:
        instance = lock_instance(uow, instance_id)
        from_version = instance.version.version
        target, workflow, found = _plan(ctx, uow, instance, version)
        if not found.movable:
            raise Conflict(
                f"instance {instance_id} cannot move to version {version}: {'; '.join(found.reasons)}",
                [{"field": "to", "message": reason} for reason in found.reasons],
            )
        try:
            migration.migrate(workflow, specs_by_id(ctx, uow, target.id))
        except EngineError as exc:
            raise Conflict(f"instance {instance_id} could not be moved: {exc.message}") from exc
        instance.version_id = target.id
        captured = capture(ctx, instance, workflow)
        save_workflow(ctx, uow, instance, workflow, captured=captured)
        refresh_task_specs(uow.session.connection(), captured.snapshot.human_tasks)
        # What this process keeps of the instance names its task rows as they were before the
        # refresh: let the next step read them again.
        moved_id, moved_version = instance.id, instance.row_version
        uow.after_commit(lambda: ctx.workflows.take(moved_id, moved_version))
        audit.record(
            uow,
            at=ctx.now(),
            actor=actor.username,
            action="instance.migrated",
            instance_id=instance.id,
            details={"from_version": from_version, "to_version": version, "added": list(found.added)},
        )
        uow.session.refresh(instance, ["version"])
        view = instance_view(uow, instance)
        uow.commit()
    return view
