"""The side tables an instance's state is mirrored into: its open human tasks, waiting timers
and message subscriptions, brought in step with what the engine reports after a step (the
inbox, the scheduler and message routing read these, never the serialized state)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, bindparam, delete, insert, select, update
from sqlalchemy.orm import Session

from ...db.models import (
    ClosedTask,
    CompletionTime,
    HumanTask,
    HumanTaskGroup,
    MessageSubscription,
    ProcessInstance,
    User,
    WaitingTimer,
    bucket_of,
)
from ...engine.views import TimerView
from ..audit import json_safe
from ..time.timer_wakeups import note_timer_stored
from ..uow import UnitOfWork


@dataclass
class TaskRow:
    """A row of `human_tasks` as plain values (read or written with Core statements)."""

    id: str
    instance_id: int
    model_id: str
    element_id: str
    name: str
    titles: Any
    lane: str | None
    group_name: str | None
    assignee_id: int | None
    reserved: bool
    form_schema: str | None
    form_ui_schema: str | None
    instructions: str | None
    instruction_texts: Any
    created_at: datetime
    due_at: datetime | None


_TASKS = HumanTask.__table__
_TIMERS = WaitingTimer.__table__
_SUBSCRIPTIONS = MessageSubscription.__table__
# Row by row (executemany): an IN list with a varying length is compiled anew for each length.
_DELETE_TASK = delete(_TASKS).where(_TASKS.c.id == bindparam("task_id"))
_INSERT_TASK = insert(_TASKS)
_INSERT_TASK_GROUP = insert(HumanTaskGroup.__table__)
_DELETE_TASK_GROUPS = delete(HumanTaskGroup.__table__).where(
    HumanTaskGroup.__table__.c.task_id == bindparam("task_id")
)
_INSERT_CLOSED_TASK = insert(ClosedTask.__table__)
_INSERT_COMPLETION_TIME = insert(CompletionTime.__table__)
_SET_TASK_DUE = update(_TASKS).where(_TASKS.c.id == bindparam("task_id")).values(due_at=bindparam("new_due"))
# What a task row takes from its version's spec: rewritten when the instance moves to another version.
_SPEC_FIELDS = ("element_id", "name", "titles", "lane", "form_schema", "form_ui_schema", "instructions",
                "instruction_texts")  # fmt: skip
_SET_TASK_SPEC = (
    update(_TASKS)
    .where(_TASKS.c.id == bindparam("task_id"))
    .values({name: bindparam(f"new_{name}") for name in _SPEC_FIELDS} | {"group_name": bindparam("new_lane")})
)
_SELECT_TIMERS = select(_TIMERS.c.id, _TIMERS.c.task_id, _TIMERS.c.due_at).where(
    _TIMERS.c.instance_id == bindparam("instance_id")
)
_DELETE_TIMER = delete(_TIMERS).where(_TIMERS.c.id == bindparam("timer_id"))
_DELETE_TIMER_BY_KEY = delete(_TIMERS).where(
    _TIMERS.c.instance_id == bindparam("instance_id"),
    _TIMERS.c.task_id == bindparam("task_id"),
    _TIMERS.c.due_at == bindparam("due_at"),
)
_INSERT_TIMER = insert(_TIMERS)
_DELETE_SUBSCRIPTIONS = delete(_SUBSCRIPTIONS).where(_SUBSCRIPTIONS.c.instance_id == bindparam("instance_id"))
_INSERT_SUBSCRIPTION = insert(_SUBSCRIPTIONS)


def sync_tasks(
    uow: UnitOfWork,
    connection: Connection,
    instance: ProcessInstance,
    views: list,
    now: datetime,
    existing: Mapping[str, TaskRow],
    completed_among: Callable[[list[str]], set[str]],
) -> list[TaskRow]:
    """`completed_among`: which of the given task ids the workflow holds as completed."""
    current = {view.task_id: view for view in views}
    gone = [task_id for task_id in existing if task_id not in current]
    if gone:
        connection.execute(_DELETE_TASK, [{"task_id": task_id} for task_id in gone])
        closed = [
            {
                "task_id": task_id,
                "instance_id": instance.id,
                "element_id": existing[task_id].element_id,
                "closed_at": now,
            }
            for task_id in gone
        ]
        connection.execute(_INSERT_CLOSED_TASK, closed[0] if len(closed) == 1 else closed)
        done = [(existing[t].element_id, existing[t].created_at) for t in completed_among(gone)]
        record_completion_times(connection, instance, done, now)
    # A user task in no lane belongs to whoever started the instance (as in spiff-arena).
    assignees = {v.task_id: v.assignee or (None if v.lane else instance.started_by) for v in views}
    reserved_for = _user_ids(uow, {a for t, a in assignees.items() if a and t not in existing})
    open_tasks: list[TaskRow] = []
    new_rows: list[TaskRow] = []
    for task_id, view in current.items():
        # In UTC, as the rows read back are: views built from these rows must not differ.
        due_at = view.due_at.astimezone(UTC) if view.due_at else None
        row = existing.get(task_id)
        if row is None:
            row = TaskRow(
                id=task_id,
                instance_id=instance.id,
                model_id=instance.model_id,
                element_id=view.element_id,
                name=view.name,
                titles=view.titles,
                lane=view.lane,
                group_name=view.lane,
                assignee_id=reserved_for.get(assignees[task_id] or ""),
                reserved=(assignees[task_id] or "") in reserved_for,
                form_schema=view.form_schema,
                form_ui_schema=view.form_ui_schema,
                instructions=view.instructions,
                instruction_texts=view.instruction_texts,
                created_at=now,
                due_at=due_at,
            )
            new_rows.append(row)
        elif row.due_at != due_at:
            connection.execute(_SET_TASK_DUE, {"task_id": task_id, "new_due": due_at})
            row = replace(row, due_at=due_at)
        open_tasks.append(row)
    if new_rows:
        # vars(), not asdict(), which deep-copies every value; one row is not an executemany.
        rows = [vars(row) for row in new_rows]
        connection.execute(_INSERT_TASK, rows[0] if len(rows) == 1 else rows)
        _insert_other_groups(connection, [current[row.id] for row in new_rows])
    return open_tasks


def _insert_other_groups(connection: Connection, views: list) -> None:
    """The groups besides its lane's that may take each task (its `other_groups`)."""
    groups = [
        {"task_id": v.task_id, "group_name": group}
        for v in views
        for group in v.other_groups
        if group != v.lane
    ]
    if groups:
        connection.execute(_INSERT_TASK_GROUP, groups)


def record_completion_times(
    connection: Connection,
    instance: ProcessInstance,
    completed: Sequence[tuple[str | None, datetime]],
    now: datetime,
) -> None:
    """How long each (element, opened at) took until `now`; element None for the whole instance."""
    if not completed:
        return
    rows = []
    for element_id, opened_at in completed:
        seconds = max(0, round((now - opened_at).total_seconds()))
        rows.append(
            {
                "instance_id": instance.id,
                "model_id": instance.model_id,
                "element_id": element_id,
                "completed_at": now,
                "seconds": seconds,
                "bucket": bucket_of(seconds),
            }
        )
    connection.execute(_INSERT_COMPLETION_TIME, rows[0] if len(rows) == 1 else rows)


def _user_ids(uow: UnitOfWork, usernames: set[str]) -> dict[str, int]:
    if not usernames:
        return {}
    rows = uow.session.execute(select(User.username, User.id).where(User.username.in_(usernames)))
    return {username: user_id for username, user_id in rows}


def sync_timers(
    session: Session,
    connection: Connection,
    instance: ProcessInstance,
    timers: list[TimerView],
    is_new: bool,
    stored: Sequence[TimerView] | None,
) -> None:
    """`stored`: the timers the instance's rows hold, when the caller knows them (they are the
    waiting timers of the state it loaded, which was saved with them): no read, and the rows
    that went are deleted by what identifies them."""
    if is_new:
        existing: dict[tuple[str, datetime], dict[str, Any]] = {}
    elif stored is not None:
        existing = {
            (t.task_id, t.due_at): {"instance_id": instance.id, "task_id": t.task_id, "due_at": t.due_at}
            for t in stored
        }
    else:
        rows = connection.execute(_SELECT_TIMERS, {"instance_id": instance.id})
        existing = {(row.task_id, row.due_at): {"timer_id": row.id} for row in rows}
    current = {(t.task_id, t.due_at): t for t in timers}
    gone = [match for key, match in existing.items() if key not in current]
    if gone:
        connection.execute(_DELETE_TIMER if stored is None else _DELETE_TIMER_BY_KEY, gone)
    added = [
        {"instance_id": instance.id, "task_id": v.task_id, "element_id": v.element_id, "due_at": v.due_at}
        for key, v in current.items()
        if key not in existing
    ]
    if added:
        connection.execute(_INSERT_TIMER, added)
        note_timer_stored(session, min(row["due_at"] for row in added))


def sync_messages(connection: Connection, instance: ProcessInstance, waits: list, is_new: bool) -> None:
    if not is_new:
        connection.execute(_DELETE_SUBSCRIPTIONS, {"instance_id": instance.id})
    if waits:
        connection.execute(
            _INSERT_SUBSCRIPTION,
            [
                {
                    "instance_id": instance.id,
                    "message_name": w.name,
                    "correlations": json_safe(w.correlations),
                }
                for w in waits
            ],
        )


def refresh_task_specs(connection: Connection, views: list) -> None:
    """Give the open task rows what the instance's (new) version says of their steps: element,
    titles, lane, form, instructions and the other groups that may take them; who holds each
    task stays."""
    if views:
        connection.execute(
            _SET_TASK_SPEC,
            [
                {"task_id": v.task_id, **{f"new_{name}": getattr(v, name) for name in _SPEC_FIELDS}}
                for v in views
            ],
        )
        connection.execute(_DELETE_TASK_GROUPS, [{"task_id": v.task_id} for v in views])
        _insert_other_groups(connection, views)
