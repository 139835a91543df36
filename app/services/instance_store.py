"""Loading and saving instances, keeping the task, timer and message tables in step.

Whatever the engine reports after a step is written to the side tables in the same
transaction, so the inbox, the scheduler and message routing never deserialize instances.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TypeVar

from SpiffWorkflow.bpmn import BpmnWorkflow
from sqlalchemy import delete, select

from ..db.models import HumanTask, MessageSubscription, ProcessInstance, User, WaitingTimer
from ..engine import runner
from ..engine.errors import EngineError
from ..engine.features import spec_features
from ..engine.functions import diagram_functions
from ..engine.sandbox import make_script_engine
from ..engine.serializer import dump_state, load_state
from ..errors import NotFound
from .audit import json_safe
from .context import ServiceContext
from .deployments import specs_by_id
from .uow import UnitOfWork
from .users import group_members

R = TypeVar("R", HumanTask, WaitingTimer)


def script_engine(ctx: ServiceContext, uow: UnitOfWork):
    functions = diagram_functions(
        ctx.clock, ctx.calendar, lambda name: group_members(uow, name), tz=ctx.settings.timezone
    )
    return make_script_engine(functions, cpu_seconds=ctx.settings.script_cpu_seconds)


def lock_instance(uow: UnitOfWork, instance_id: int) -> ProcessInstance:
    """Load an instance under its row lock (FOR UPDATE on PostgreSQL; SQLite's write lock is
    already held by a writing unit of work)."""
    query = select(ProcessInstance).where(ProcessInstance.id == instance_id).with_for_update()
    instance = uow.session.scalars(query).first()
    if instance is None:
        raise NotFound(f"process instance {instance_id} not found")
    return instance


def lock_row_of_instance(uow: UnitOfWork, model: type[R], row_id: object) -> tuple[ProcessInstance, R] | None:
    """A task or timer row with its instance locked, re-read under that lock (another transaction
    may have completed or fired it while this one waited); None when it is gone."""
    row = uow.session.get(model, row_id)
    if row is None:
        return None
    instance = lock_instance(uow, row.instance_id)
    query = select(model).where(model.id == row_id).execution_options(populate_existing=True)
    row = uow.session.scalars(query).first()
    return (instance, row) if row is not None else None


def load_workflow(ctx: ServiceContext, uow: UnitOfWork, instance: ProcessInstance) -> BpmnWorkflow:
    workflow = load_state(instance.state_json, specs_by_id(ctx, uow, instance.version_id))
    return runner.attach(workflow, script_engine(ctx, uow))


def run_step(
    ctx: ServiceContext,
    uow: UnitOfWork,
    instance: ProcessInstance,
    workflow: BpmnWorkflow,
    step: Callable[[BpmnWorkflow], object],
) -> EngineError | None:
    """Run one engine step and save the outcome; a failing script leaves the instance in error.

    Errors that mean the step does not apply (a task no longer ready, a message not awaited)
    propagate before anything is saved."""
    error: EngineError | None = None
    try:
        step(workflow)
    except EngineError as exc:
        error = exc
    save_workflow(ctx, uow, instance, workflow, error=error)
    return error


def save_workflow(
    ctx: ServiceContext,
    uow: UnitOfWork,
    instance: ProcessInstance,
    workflow: BpmnWorkflow,
    *,
    error: EngineError | None = None,
) -> None:
    now = ctx.now()
    snap = runner.snapshot(workflow)
    instance.state_json = dump_state(workflow)
    instance.data = json_safe(snap.data)
    instance.element_states = snap.element_states
    instance.updated_at = now
    if error is not None:
        instance.status = "error"
        instance.error_element = error.element_id
        instance.error_message = error.message
    elif instance.status != "cancelled":
        instance.status = "complete" if snap.completed else "running"
        instance.error_element = None
        instance.error_message = None
    is_new = instance.id is None
    if is_new:
        uow.add(instance)
        uow.session.flush()
    running = instance.status == "running"
    # A new instance has no rows to compare with, and a process without, say, message events
    # never has subscriptions: skip those reads and deletes.
    features = spec_features(workflow)
    if features.human_tasks:
        _sync_tasks(uow, instance, snap.human_tasks if running else [], now, is_new)
    if features.timers:
        _sync_timers(uow, instance, snap.timers if running else [], is_new)
    if features.messages:
        _sync_messages(uow, instance, snap.messages if running else [], is_new)


def _sync_tasks(uow: UnitOfWork, instance: ProcessInstance, tasks: list, now: datetime, is_new: bool) -> None:
    query = select(HumanTask).where(HumanTask.instance_id == instance.id)
    existing = {} if is_new else {t.id: t for t in uow.session.scalars(query)}
    current = {t.task_id: t for t in tasks}
    reserved_for = _user_ids(uow, {t.assignee for t in tasks if t.assignee and t.task_id not in existing})
    for task_id, row in existing.items():
        if task_id not in current:
            uow.session.delete(row)
    for task_id, view in current.items():
        row = existing.get(task_id)
        if row is None:
            uow.add(
                HumanTask(
                    id=task_id,
                    instance_id=instance.id,
                    model_id=instance.model_id,
                    element_id=view.element_id,
                    name=view.name,
                    titles=view.titles,
                    lane=view.lane,
                    group_name=view.lane,
                    form_schema=view.form_schema,
                    form_ui_schema=view.form_ui_schema,
                    instructions=view.instructions,
                    created_at=now,
                    due_at=view.due_at,
                    assignee_id=reserved_for.get(view.assignee or ""),
                    reserved=(view.assignee or "") in reserved_for,
                )
            )
        elif row.due_at != view.due_at:
            row.due_at = view.due_at


def _user_ids(uow: UnitOfWork, usernames: set[str]) -> dict[str, int]:
    if not usernames:
        return {}
    rows = uow.session.execute(select(User.username, User.id).where(User.username.in_(usernames)))
    return {username: user_id for username, user_id in rows}


def _sync_timers(uow: UnitOfWork, instance: ProcessInstance, timers: list, is_new: bool) -> None:
    query = select(WaitingTimer).where(WaitingTimer.instance_id == instance.id)
    existing = {} if is_new else {(t.task_id, t.due_at): t for t in uow.session.scalars(query)}
    current = {(t.task_id, t.due_at): t for t in timers}
    for key, row in existing.items():
        if key not in current:
            uow.session.delete(row)
    for key, view in current.items():
        if key not in existing:
            uow.add(
                WaitingTimer(
                    instance_id=instance.id,
                    task_id=view.task_id,
                    element_id=view.element_id,
                    due_at=view.due_at,
                )
            )


def _sync_messages(uow: UnitOfWork, instance: ProcessInstance, waits: list, is_new: bool) -> None:
    if not is_new:
        uow.session.execute(delete(MessageSubscription).where(MessageSubscription.instance_id == instance.id))
    for wait in waits:
        uow.add(
            MessageSubscription(
                instance_id=instance.id, message_name=wait.name, correlations=json_safe(wait.correlations)
            )
        )
