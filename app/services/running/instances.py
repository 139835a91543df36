"""Process instances: start, read, cancel, retry (finding them: `instance_search`)."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any, NamedTuple

from SpiffWorkflow.bpmn import BpmnWorkflow
from sqlalchemy import delete, select

from ...db.models import HeldMessage, HumanTask, InstanceLogLine, ProcessInstance
from ...engine import runner
from ...engine.errors import EngineError, TaskNotReady
from ...errors import AppError, Conflict, Forbidden, InvalidInput, NotFound, Unavailable
from .. import audit
from ..context import ServiceContext
from ..modelling.deployments import VersionRef, form_of, latest_version, newest_version_id, specs_by_id
from ..people.users import Actor
from ..uow import UnitOfWork
from ..work.forms import normalised_times, validation_errors, with_defaults
from ..work.tasks import inbox_order, task_summary, usernames
from .instance_store import (
    Captured,
    TaskRow,
    capture,
    engine_step,
    load_workflow,
    lock_instance,
    save_workflow,
    script_engine,
)
from .states import ENDED
from .steps import EngineStep, store_step, work_out_ahead


def may_start(actor: Actor, metadata: Mapping[str, Any], lanes: Collection[str]) -> bool:
    """Administrators; the groups the model's `start_groups` property names; without it, the
    groups that have a lane in the process (those who take part) and analysts (who test it);
    a process with neither (no human step) anyone signed in."""
    if actor.is_admin:
        return True
    named = [g.strip() for g in str(metadata.get("start_groups", "")).split(",") if g.strip()]
    if not named and not lanes:
        return True
    allowed = set(named) if named else {*lanes, "analysts"}
    return bool(actor.groups & allowed)


class Started(NamedTuple):
    instance: ProcessInstance
    workflow: BpmnWorkflow
    tasks: list[TaskRow]
    version: int


class NewInstance(NamedTuple):
    """An instance whose workflow has run to its first wait, not stored yet."""

    instance: ProcessInstance
    workflow: BpmnWorkflow
    version: int
    captured: Captured
    then_result: Any = None  # what the step run after the start returned, if it ran


def begin_start(
    ctx: ServiceContext,
    uow: UnitOfWork,
    actor: Actor,
    version: VersionRef,
    data: Mapping[str, Any],
    then: EngineStep | None = None,
) -> NewInstance:
    """Check that the actor may start this version with this data, and run the new workflow to
    its first wait, then `then` when the workflow still runs. Reads only: no other transaction
    can see or change an instance before it is stored, so this may run outside a writing unit
    of work."""
    model_id = version.model_id
    if not may_start(actor, version.metadata, version.lanes):
        raise Forbidden(f"you may not start '{model_id}'")
    start_form = version.metadata.get("formJsonSchemaFilename")
    if start_form:
        schema = form_of(ctx, uow, version.id, start_form)
        data = with_defaults(schema, dict(data))
        errors = validation_errors(schema, data)
        if errors:
            raise InvalidInput("the start form has errors", errors)
        data = normalised_times(schema, data, ctx.settings.timezone)
    now = ctx.now()
    instance = ProcessInstance(
        model_id=model_id,
        version_id=version.id,
        status="running",
        state_json="{}",
        started_by=actor.username,
        created_at=now,
        updated_at=now,
    )
    # Added to the session by save_workflow, once the first engine step has run.
    workflow = runner.create(specs_by_id(ctx, uow, version.id), data, script_engine(ctx, uow))
    error = engine_step(workflow, runner.advance)
    results: list[Any] = []
    if then is not None and error is None and not workflow.is_completed():
        error = engine_step(workflow, lambda w: results.append(then(w)))
    captured = capture(ctx, instance, workflow, error)
    return NewInstance(instance, workflow, version.version, captured, results[0] if results else None)


def prepare_start(
    ctx: ServiceContext, actor: Actor, model_id: str, data: Mapping[str, Any], then: EngineStep | None = None
) -> NewInstance | None:
    """A start worked out before the write lock (diagram code runs in sandbox workers), on the
    version this process last found newest; None when it cannot start, which the writing
    transaction then finds out again and says."""
    with ctx.uow() as uow:
        try:
            guess = ctx.newest_versions.get(model_id) or _newest_version(ctx, uow, model_id)
            return begin_start(ctx, uow, actor, guess, data, then)
        except Unavailable:
            raise
        except (AppError, EngineError):
            return None


def start_prepared(
    ctx: ServiceContext,
    uow: UnitOfWork,
    actor: Actor,
    model_id: str,
    data: Mapping[str, Any],
    prepared: NewInstance | None,
    then: EngineStep | None = None,
) -> NewInstance:
    """In a writing unit of work: the prepared start when it ran on the version still newest,
    else the start worked out again here; store it with store_start."""
    if prepared is None or prepared.instance.version_id != newest_version_id(uow, model_id):
        prepared = begin_start(ctx, uow, actor, _newest_version(ctx, uow, model_id), data, then)
    return prepared


def store_start(ctx: ServiceContext, uow: UnitOfWork, new: NewInstance) -> Started:
    """Store a new instance and its side-table rows in a writing unit of work."""
    tasks = save_workflow(ctx, uow, new.instance, new.workflow, captured=new.captured)
    return Started(new.instance, new.workflow, tasks, new.version)


def _newest_version(ctx: ServiceContext, uow: UnitOfWork, model_id: str) -> VersionRef:
    version = ctx.newest_versions[model_id] = latest_version(uow, model_id)
    return version


def start_instance(
    ctx: ServiceContext, actor: Actor, model_id: str, data: Mapping[str, Any]
) -> dict[str, Any]:
    if not isinstance(data, Mapping):
        raise InvalidInput("data must be a JSON object", [{"field": "data", "message": "expected an object"}])
    new: NewInstance | None = None
    guess = ctx.newest_versions.get(model_id)
    if guess is not None or ctx.write_lock_is_global:
        # The new workflow runs before the writing transaction, on the version this process
        # last found newest, which that transaction checks. SQLite reads it first when it has
        # no guess: its write lock is the whole database's, and other requests' writes need not
        # wait for this instance's engine steps.
        with ctx.uow() as uow:
            new = begin_start(ctx, uow, actor, guess or _newest_version(ctx, uow, model_id), data)
    with ctx.uow(write=True) as uow:
        if new is None or new.instance.version_id != newest_version_id(uow, model_id):
            new = begin_start(ctx, uow, actor, _newest_version(ctx, uow, model_id), data)
        started = store_start(ctx, uow, new)
        instance = started.instance
        audit.record(
            uow,
            at=ctx.now(),
            actor=actor.username,
            action="instance.started",
            instance_id=instance.id,
            details={"model": model_id, "data": dict(data)},
        )
        uow.commit()  # lets go of SQLite's write lock before the answer is built
        return instance_view(uow, instance, started.tasks, version=started.version)


def instance_view(
    uow: UnitOfWork,
    instance: ProcessInstance,
    tasks: Sequence[HumanTask | TaskRow] | None = None,
    *,
    version: int | None = None,
) -> dict[str, Any]:
    """The instance with its open tasks (read unless the caller has them from saving it) and its
    version number (read unless given)."""
    if tasks is None:
        query = select(HumanTask).where(HumanTask.instance_id == instance.id)
        tasks = list(uow.session.scalars(query))
    tasks = sorted(tasks, key=inbox_order)
    names = usernames(uow, {t.assignee_id for t in tasks if t.assignee_id})
    return {
        "id": instance.id,
        "process_model": instance.model_id,
        "version": instance.version.version if version is None else version,
        "status": instance.status,
        "business_key": instance.business_key,
        "data": instance.data,
        "tasks": [task_summary(t, names) for t in tasks],
        "error": (
            {"element_id": instance.error_element, "message": instance.error_message}
            if instance.status == "error"
            else None
        ),
        "started_by": instance.started_by,
        "created_at": instance.created_at.isoformat(),
        "updated_at": instance.updated_at.isoformat(),
        "element_states": instance.element_states,
    }


def may_read(actor: Actor, instance: ProcessInstance) -> bool:
    """Administrators, the initiator, and members of a group with a lane in the process."""
    return (
        actor.is_admin
        or actor.username == instance.started_by
        or bool(actor.groups.intersection(instance.version.lanes or []))
    )


def _get(uow: UnitOfWork, instance_id: int, actor: Actor) -> ProcessInstance:
    instance = uow.session.get(ProcessInstance, instance_id)
    if instance is None:
        raise NotFound(f"process instance {instance_id} not found")
    if not may_read(actor, instance):
        raise Forbidden("this instance belongs to a process you take no part in")
    return instance


def get_instance(ctx: ServiceContext, actor: Actor, instance_id: int) -> dict[str, Any]:
    with ctx.uow() as uow:
        return instance_view(uow, _get(uow, instance_id, actor))


def history(ctx: ServiceContext, actor: Actor, instance_id: int) -> list[dict[str, Any]]:
    with ctx.uow() as uow:
        _get(uow, instance_id, actor)
        return [
            {
                "at": r.at.isoformat(),
                "actor": r.actor,
                "action": r.action,
                "task_id": r.task_id,
                "element_id": r.element_id,
                "details": r.details,
            }
            for r in audit.instance_history(uow, instance_id)
        ]


def printed_log(ctx: ServiceContext, actor: Actor, instance_id: int) -> list[dict[str, Any]]:
    """What the instance's diagram code wrote with print(), oldest first."""
    with ctx.uow() as uow:
        _get(uow, instance_id, actor)
        rows = uow.session.scalars(
            select(InstanceLogLine)
            .where(InstanceLogLine.instance_id == instance_id)
            .order_by(InstanceLogLine.id)
        )
        return [{"at": r.at.isoformat(), "element_id": r.element_id, "text": r.text} for r in rows]


def cancel_instance(ctx: ServiceContext, actor: Actor, instance_id: int) -> dict[str, Any]:
    with ctx.uow(write=True) as uow:
        instance = lock_instance(uow, instance_id)
        if actor.username != instance.started_by and not actor.is_admin:
            raise Forbidden("only an administrator or the initiator may cancel an instance")
        if instance.status in ENDED:
            raise Conflict(f"instance {instance_id} is already {instance.status}")
        workflow = load_workflow(ctx, uow, instance)
        runner.cancel(workflow)
        instance.status = "cancelled"
        save_workflow(ctx, uow, instance, workflow)
        uow.session.execute(delete(HeldMessage).where(HeldMessage.instance_id == instance.id))
        audit.record(
            uow, at=ctx.now(), actor=actor.username, action="instance.cancelled", instance_id=instance.id
        )
        view = instance_view(uow, instance)
        uow.commit()
    return view


def retry_instance(ctx: ServiceContext, actor: Actor, instance_id: int) -> dict[str, Any]:
    actor.require_admin()
    ahead = work_out_ahead(ctx, instance_id, runner.retry, lambda i: i.status == "error")
    with ctx.uow(write=True) as uow:
        instance = lock_instance(uow, instance_id)
        if instance.status != "error":
            raise Conflict(f"instance {instance_id} is not in error")
        failed_element = instance.error_element
        try:
            error = store_step(ctx, uow, instance, runner.retry, ahead).error
        except TaskNotReady as exc:
            raise Conflict(str(exc)) from exc
        audit.record(
            uow,
            at=ctx.now(),
            actor=actor.username,
            action="instance.retried",
            instance_id=instance.id,
            element_id=failed_element,
            details={"status": instance.status, "error": error.message if error else None},
        )
        view = instance_view(uow, instance)
        uow.commit()
    return view
