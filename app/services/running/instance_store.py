"""Loading and saving instances, keeping the task, timer and message tables in step.

Whatever the engine reports after a step is written to the side tables in the same
transaction, so the inbox, the scheduler and message routing never deserialize instances.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC
from functools import partial
from typing import Any, TypeVar

from SpiffWorkflow.bpmn import BpmnWorkflow
from sqlalchemy import Row, Select, bindparam, insert, select, update
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.exc import StaleDataError
from sqlalchemy.orm.util import identity_key

from ...db.models import HumanTask, InstanceLogLine, ProcessInstance, WaitingTimer
from ...engine import runner, snapshots
from ...engine.errors import EngineError
from ...engine.features import SpecFeatures, spec_features
from ...engine.functions import diagram_functions
from ...engine.scripting import make_script_engine
from ...engine.serializer import dump_state, load_state
from ...engine.views import TimerView, WorkflowSnapshot
from ...errors import NotFound
from ..audit import json_safe
from ..context import ServiceContext
from ..modelling.deployments import specs_by_id
from ..people.users import group_members
from ..uow import UnitOfWork
from .search_keys import business_key_of, search_keys, store_values
from .side_tables import TaskRow, record_completion_times, sync_messages, sync_tasks, sync_timers
from .states import ENDED, SUSPENDED

R = TypeVar("R", HumanTask, WaitingTimer)


@dataclass
class StepOutcome:
    """What running a step left behind: the script error that stopped it, the open human tasks."""

    error: EngineError | None
    tasks: list[TaskRow]


# Built once, so that SQLAlchemy reuses their compiled form (the hot path of every step).
_INSTANCES = ProcessInstance.__table__
_INSTANCE_COLUMNS = tuple(column.key for column in _INSTANCES.columns)
_LOCK_INSTANCE = select(_INSTANCES).where(_INSTANCES.c.id == bindparam("instance_id")).with_for_update()
_INSTANCE_ID_OF_TASK = (
    select(HumanTask.instance_id).where(HumanTask.id == bindparam("task_id")).scalar_subquery()
)
_INSTANCE_OF_TASK = select(_INSTANCES).where(_INSTANCES.c.id == _INSTANCE_ID_OF_TASK)
_LOCK_INSTANCE_OF_TASK = _INSTANCE_OF_TASK.with_for_update()
_LOCK_ROW_VERSION_OF_TASK = (
    select(_INSTANCES.c.id, _INSTANCES.c.row_version)
    .where(_INSTANCES.c.id == _INSTANCE_ID_OF_TASK)
    .with_for_update()
)
# What saving a workflow changes in its instance row (the keys of save_workflow's `state`).
_INSTANCE_STATE = (
    "business_key",
    "status",
    "state_json",
    "data",
    "element_states",
    "error_element",
    "error_message",
    "updated_at",
    "ended_at",
)
_INSERT_INSTANCE = insert(_INSTANCES)
_UPDATE_INSTANCE = (
    update(_INSTANCES)
    .where(_INSTANCES.c.id == bindparam("b_id"), _INSTANCES.c.row_version == bindparam("b_row_version"))
    .values(
        {name: bindparam(name) for name in _INSTANCE_STATE} | {"row_version": bindparam("b_new_row_version")}
    )
)
_INSERT_LOG_LINE = insert(InstanceLogLine.__table__)
_TASKS = HumanTask.__table__
_SELECT_TASKS = select(_TASKS).where(_TASKS.c.instance_id == bindparam("instance_id"))
_TASK_COLUMNS = tuple(column.key for column in _TASKS.columns)
_TASKS_WITH_ROW_VERSION = (
    select(_TASKS, _INSTANCES.c.row_version)
    .join(_INSTANCES, _INSTANCES.c.id == _TASKS.c.instance_id)
    .where(_TASKS.c.instance_id == _INSTANCE_ID_OF_TASK)
)


def script_engine(ctx: ServiceContext, uow: UnitOfWork):
    functions = diagram_functions(
        ctx.clock, ctx.calendar, lambda name: group_members(uow, name), tz=ctx.settings.timezone
    )
    return make_script_engine(ctx.sandbox, functions)


def lock_instance(uow: UnitOfWork, instance_id: int) -> ProcessInstance:
    """Load an instance under its row lock (FOR UPDATE on PostgreSQL; SQLite's write lock is
    already held by a writing unit of work)."""
    instance = _instance_row(uow, _LOCK_INSTANCE, {"instance_id": instance_id})
    if instance is None:
        raise NotFound(f"process instance {instance_id} not found")
    return instance


def lock_task_instance(uow: UnitOfWork, task_id: str) -> tuple[ProcessInstance, dict[str, TaskRow]] | None:
    """A task's instance under its row lock, with the instance's open tasks read under that lock
    (another transaction may have completed the task while this one waited); None when the task
    is gone."""
    return _task_instance(uow, _LOCK_INSTANCE_OF_TASK, task_id)


def read_task_instance(uow: UnitOfWork, task_id: str) -> tuple[ProcessInstance, dict[str, TaskRow]] | None:
    """As lock_task_instance, without the lock: what a step can be worked out from before the
    write lock is taken (the row version tells later whether it still holds)."""
    return _task_instance(uow, _INSTANCE_OF_TASK, task_id)


def kept_task_instance(
    ctx: ServiceContext, task_id: str
) -> tuple[ProcessInstance, dict[str, TaskRow]] | None:
    """As read_task_instance, from what this process kept when it stored the instance last (no
    read at all); None when it kept nothing with this task. Possibly stale: see lock_current_tasks."""
    kept = ctx.workflows.peek_task(task_id)
    if kept is None:
        return None
    instance = ProcessInstance(**kept.row)
    make_transient_to_detached(instance)  # as if loaded, in no session
    return instance, dict(kept.tasks)


def lock_current_tasks(uow: UnitOfWork, task_id: str) -> tuple[int, dict[str, TaskRow]] | None:
    """The row version of a task's instance, locked, and the instance's open tasks, without the
    instance row (its serialized state is the bulk of it); None when the task is gone.

    This tells whether a step worked out before the lock still applies: the instance row is
    unchanged when its row version is. On SQLite, whose writing transaction holds the write lock
    already, one statement; on PostgreSQL, the row lock, then the tasks as they are once it is
    held (read in the same statement, they could be older than the lock)."""
    connection = uow.session.connection()
    if uow.is_postgresql:
        locked = connection.execute(_LOCK_ROW_VERSION_OF_TASK, {"task_id": task_id}).first()
        if locked is None:
            return None
        tasks = tasks_of(uow, locked.id)
        return (locked.row_version, tasks) if task_id in tasks else None
    rows = connection.execute(_TASKS_WITH_ROW_VERSION, {"task_id": task_id}).all()
    tasks = _task_rows(rows)
    return (rows[0].row_version, tasks) if task_id in tasks else None


def _task_instance(
    uow: UnitOfWork, statement: Select, task_id: str
) -> tuple[ProcessInstance, dict[str, TaskRow]] | None:
    instance = _instance_row(uow, statement, {"task_id": task_id})
    if instance is None:
        return None
    tasks = tasks_of(uow, instance.id)
    return (instance, tasks) if task_id in tasks else None


def _instance_row(uow: UnitOfWork, statement: Select, params: dict[str, Any]) -> ProcessInstance | None:
    """Run a Core select of one instance row (locking it or not) and hand the row to the session
    as a loaded object (an ORM query costs several times more on this hot path)."""
    row = uow.session.connection().execute(statement, params).first()
    return None if row is None else adopt_instance(uow, row._mapping)


def adopt_instance(uow: UnitOfWork, row: Mapping[str, Any]) -> ProcessInstance:
    """The session's object for an instance row read with Core (its columns by name)."""
    if identity_key(ProcessInstance, row["id"]) in uow.session.identity_map:
        # Read earlier in this unit of work: refresh that object rather than adding a twin.
        return uow.session.get(ProcessInstance, row["id"], populate_existing=True)
    instance = ProcessInstance(**{name: row[name] for name in _INSTANCE_COLUMNS})
    make_transient_to_detached(instance)  # as if loaded: persistent once added, nothing pending
    uow.session.add(instance)
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
    """The instance's workflow as its row holds it: the object this process stored it from when
    it has it, else deserialized."""
    workflow = ctx.workflows.take(instance.id, instance.row_version)
    if workflow is None:
        workflow = load_state(instance.state_json, specs_by_id(ctx, uow, instance.version_id))
    return runner.attach(workflow, script_engine(ctx, uow))


def engine_step(workflow: BpmnWorkflow, step: Callable[[BpmnWorkflow], object]) -> EngineError | None:
    """Run one engine step; the script error that stopped it, if one did.

    Errors that mean the step does not apply (a task no longer ready, a message not awaited)
    propagate."""
    try:
        step(workflow)
    except EngineError as exc:
        return exc
    return None


def run_step(
    ctx: ServiceContext,
    uow: UnitOfWork,
    instance: ProcessInstance,
    workflow: BpmnWorkflow,
    step: Callable[[BpmnWorkflow], object],
    *,
    tasks: Mapping[str, TaskRow] | None = None,
) -> StepOutcome:
    """Run one engine step and save the outcome; a failing script leaves the instance in error.

    Errors that mean the step does not apply propagate before anything is saved."""
    error = engine_step(workflow, step)
    return StepOutcome(error, save_workflow(ctx, uow, instance, workflow, error=error, tasks=tasks))


@dataclass
class Captured:
    """What a workflow holds after a step, ready to be written: the engine's part of saving,
    which writes nothing, so a use case may take it before it takes the write lock."""

    snapshot: WorkflowSnapshot
    state: dict[str, Any]
    features: SpecFeatures
    printed: list[tuple[str | None, str]]  # what the step's code wrote with print(), by element


def capture(
    ctx: ServiceContext, instance: ProcessInstance, workflow: BpmnWorkflow, error: EngineError | None = None
) -> Captured:
    """The instance row's new values (status, serialized state, data) and what the side tables
    will hold."""
    snap = snapshots.snapshot(workflow)
    state: dict[str, Any] = {
        "state_json": dump_state(workflow),
        "data": json_safe(snap.data),
        "element_states": snap.element_states,
        "updated_at": ctx.now().astimezone(UTC),
        "business_key": instance.business_key,
        "status": instance.status,
        "error_element": None,
        "error_message": None,
    }
    if error is not None:
        state.update(status="error", error_element=error.element_id, error_message=error.message)
    elif instance.status not in ("cancelled", SUSPENDED):
        state["status"] = "complete" if snap.completed else "running"
    ended = state["status"] in ENDED
    state["ended_at"] = (instance.ended_at or state["updated_at"]) if ended else None
    environment = getattr(workflow.script_engine, "environment", None)
    printed = environment.take_printed() if hasattr(environment, "take_printed") else []
    return Captured(snap, state, spec_features(workflow), printed)


def save_workflow(
    ctx: ServiceContext,
    uow: UnitOfWork,
    instance: ProcessInstance,
    workflow: BpmnWorkflow,
    *,
    error: EngineError | None = None,
    tasks: Mapping[str, TaskRow] | None = None,
    timers: Sequence[TimerView] | None = None,
    captured: Captured | None = None,
) -> list[TaskRow]:
    """Store the workflow's state and bring the side tables in step; the instance's open human
    tasks afterwards. `tasks`: the instance's task rows when the caller read them under the lock
    already; `timers`: the waiting timers of the state as loaded, which its timer rows hold
    (neither is read again); `captured`: the workflow's state when the caller took it already."""
    # Pending ORM changes (a timer row an admin moved, a status set by the caller) go out before
    # the instance's own fields change below: what follows are Core statements, which do not
    # autoflush, and the instance's new state must not be written twice.
    uow.session.flush()
    if captured is None:
        captured = capture(ctx, instance, workflow, error)
    snap, features = captured.snapshot, captured.features
    now = captured.state["updated_at"]
    is_new = instance.id is None
    keys = search_keys(ctx, uow, instance.version_id)
    if keys.business_key:
        captured.state["business_key"] = business_key_of(keys, captured.state["data"])
    completes = captured.state["status"] == "complete" and instance.status != "complete"
    _store_instance(uow, instance, captured.state)
    connection = uow.session.connection()
    if completes:
        record_completion_times(connection, instance, [(None, instance.created_at)], now)
    running = instance.status == "running"
    live = running or instance.status == SUSPENDED  # a suspended instance keeps its rows, held
    # A new instance has no rows to compare with, and a process without, say, message events
    # never has subscriptions: skip those reads and deletes.
    open_tasks: list[TaskRow] = []
    if features.human_tasks:
        existing = {} if is_new else (tasks if tasks is not None else tasks_of(uow, instance.id))
        open_tasks = sync_tasks(
            uow,
            connection,
            instance,
            snap.human_tasks if live else [],
            now,
            existing,
            partial(snapshots.completed_among, workflow),
        )
    if features.timers:
        sync_timers(uow.session, connection, instance, snap.timers if live else [], is_new, timers)
    if features.messages:
        sync_messages(connection, instance, snap.messages if live else [], is_new)
    store_values(connection, instance, keys, captured.state["data"], is_new)
    if captured.printed:
        connection.execute(
            _INSERT_LOG_LINE,
            [
                {"instance_id": instance.id, "at": now, "element_id": e, "text": t}
                for e, t in captured.printed
            ],
        )
    if running:
        uow.after_commit(partial(_keep, ctx, instance, workflow, open_tasks))
    return open_tasks


def _keep(
    ctx: ServiceContext, instance: ProcessInstance, workflow: BpmnWorkflow, tasks: list[TaskRow]
) -> None:
    row = {name: getattr(instance, name) for name in _INSTANCE_COLUMNS}
    ctx.workflows.keep(instance.id, instance.row_version, workflow, row, {task.id: task for task in tasks})


def _store_instance(uow: UnitOfWork, instance: ProcessInstance, state: dict[str, Any]) -> None:
    """INSERT or UPDATE the instance row with one Core statement (the ORM's unit of work costs
    several times more on this hot path), and give the object the stored values as committed
    ones, so that the session has nothing left to flush for it."""
    connection = uow.session.connection()
    if instance.id is None:
        for name, value in state.items():
            setattr(instance, name, value)
        row = {
            **state,
            "model_id": instance.model_id,
            "version_id": instance.version_id,
            "started_by": instance.started_by,
            "created_at": instance.created_at,
            "row_version": 1,
        }
        instance.id = connection.execute(_INSERT_INSTANCE, row).inserted_primary_key[0]
        instance.row_version = 1
        make_transient_to_detached(instance)  # as if loaded: persistent once added, nothing pending
        uow.session.add(instance)
        return
    row_version = instance.row_version
    result = connection.execute(
        _UPDATE_INSTANCE,
        {**state, "b_id": instance.id, "b_row_version": row_version, "b_new_row_version": row_version + 1},
    )
    if result.rowcount != 1:
        # Unreachable while the instance is locked: the same guard as the ORM's version check.
        raise StaleDataError(f"process instance {instance.id} was changed by another transaction")
    for name, value in state.items():
        set_committed_value(instance, name, value)
    set_committed_value(instance, "row_version", row_version + 1)


def tasks_of(uow: UnitOfWork, instance_id: int) -> dict[str, TaskRow]:
    """The instance's open human tasks by id (read under the instance lock to be current)."""
    return _task_rows(uow.session.connection().execute(_SELECT_TASKS, {"instance_id": instance_id}))


def _task_rows(rows: Iterable[Row]) -> dict[str, TaskRow]:
    """Task rows by id, from rows that hold at least the columns of `human_tasks`."""
    return {row.id: TaskRow(**{name: row._mapping[name] for name in _TASK_COLUMNS}) for row in rows}
