"""The steps of completing a human task, which `tasks.complete_task` tells in order:

1. Work the completion out ahead of the instance's lock where this process can (`work_out_ahead`):
   check the actor and the data against the form and its rules, and run the engine on the workflow.
2. Under the instance's row lock (`under_the_lock`), keep that result if the instance's row
   version did not move meanwhile; else work it out again from the locked rows.
3. Save the workflow with its task, timer and message rows (`instance_store.save_workflow`).
4. Write the one audit record of the change (`record`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

from SpiffWorkflow.bpmn import BpmnWorkflow

from ...db.models import ProcessInstance
from ...engine import runner
from ...engine.errors import EngineError, TaskNotReady
from ...errors import Conflict, Forbidden, InvalidInput
from .. import audit
from ..context import ServiceContext
from ..modelling.deployments import form_of
from ..people.users import Actor
from ..running.instance_store import (
    Captured,
    TaskRow,
    capture,
    engine_step,
    kept_task_instance,
    load_workflow,
    lock_current_tasks,
    lock_task_instance,
    read_task_instance,
)
from ..running.states import refuse_if_suspended
from ..uow import UnitOfWork
from .forms import check_form_rules, normalised_times, validation_errors
from .task_groups import groups_of, names_of, other_groups


class Completion(NamedTuple):
    """A task's completion worked out on an instance as a given row version held it."""

    instance: ProcessInstance
    workflow: BpmnWorkflow
    error: EngineError | None
    captured: Captured
    data: dict[str, Any]  # as submitted, with times normalised


class Locked(NamedTuple):
    """A completion that holds under the instance's lock, with the instance's open task rows."""

    completion: Completion
    open_tasks: Mapping[str, TaskRow]


def _gone(task_id: str) -> Conflict:
    return Conflict(f"task {task_id} is already completed or no longer exists")


def check_may_complete(uow: UnitOfWork, actor: Actor, task: TaskRow) -> None:
    if task.assignee_id is not None and task.assignee_id != actor.user_id:
        raise Forbidden("the task is claimed by someone else")
    if task.assignee_id is None and task.group_name not in actor.groups:
        groups = groups_of(task, other_groups(uow, [task.id]).get(task.id, ()))
        if not groups & actor.groups:
            raise Forbidden(f"only members of {names_of(groups)} may complete this task")


def work_out(
    ctx: ServiceContext,
    uow: UnitOfWork,
    actor: Actor,
    instance: ProcessInstance,
    open_tasks: Mapping[str, TaskRow],
    task_id: str,
    data: Mapping,
) -> Completion:
    """Check the actor and the data, and run the completion on the instance's workflow."""
    task = open_tasks[task_id]
    check_may_complete(uow, actor, task)
    refuse_if_suspended(instance, "completed")
    schema = form_of(ctx, uow, instance.version_id, task.form_schema) if task.form_schema else None
    if schema is not None:
        errors = validation_errors(schema, dict(data))
        if errors:
            raise InvalidInput("the form has errors", errors)
        data = normalised_times(schema, dict(data), ctx.settings.timezone)
    workflow = load_workflow(ctx, uow, instance)
    try:
        check_form_rules(ctx, uow, instance.version_id, workflow, task_id, schema, data)
        error = engine_step(workflow, lambda w: runner.complete_task(w, task_id, data))
    except TaskNotReady as exc:
        raise _gone(task_id) from exc
    return Completion(instance, workflow, error, capture(ctx, instance, workflow, error), dict(data))


def work_out_ahead(ctx: ServiceContext, actor: Actor, task_id: str, data: Mapping) -> Completion | None:
    """The completion worked out before the instance is locked, from what this process kept of
    it: no read at all. Without that, SQLite works it out from the database, since its write
    lock is the whole database's and other requests' writes need not wait for this instance's
    engine steps; PostgreSQL, whose lock is the instance's row, does it all under that lock
    (None). Under the lock, the instance's row version tells whether the result still holds."""
    with ctx.uow() as uow:
        kept = kept_task_instance(ctx, task_id)
        if kept is not None:
            try:
                return work_out(ctx, uow, actor, *kept, task_id, data)
            except (Forbidden, InvalidInput, Conflict):
                pass  # the kept task rows may be out of date: the database decides the answer
        if not ctx.write_lock_is_global:
            return None
        read = read_task_instance(uow, task_id)
        if read is None:
            raise _gone(task_id)
        return work_out(ctx, uow, actor, *read, task_id, data)


def under_the_lock(
    ctx: ServiceContext, uow: UnitOfWork, actor: Actor, task_id: str, data: Mapping, ahead: Completion | None
) -> Locked:
    """Lock the instance's row; the completion worked out ahead if the instance is as it was
    (so is its version's form, which the data passed), else worked out again under the lock."""
    if ahead is not None:
        current = lock_current_tasks(uow, task_id)
        if current is None:
            raise _gone(task_id)
        row_version, open_tasks = current
        if row_version == ahead.instance.row_version:
            # Its task rows may have moved, since a claim changes only them.
            check_may_complete(uow, actor, open_tasks[task_id])
            return Locked(ahead, open_tasks)
    locked = lock_task_instance(uow, task_id)
    if locked is None:
        raise _gone(task_id)
    return Locked(work_out(ctx, uow, actor, *locked, task_id, data), locked[1])


def record(ctx: ServiceContext, uow: UnitOfWork, actor: Actor, task_id: str, done: Locked) -> None:
    instance, error = done.completion.instance, done.completion.error
    audit.record(
        uow,
        at=ctx.now(),
        actor=actor.username,
        action="task.completed",
        instance_id=instance.id,
        task_id=task_id,
        element_id=done.open_tasks[task_id].element_id,
        details={
            "data": done.completion.data,
            "status": instance.status,
            "error": {"element_id": error.element_id, "message": error.message} if error else None,
        },
    )
