"""Human tasks: the inbox, claiming, assigning and completing (the steps of a completion are in
`completion`)."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Row, select

from ...db.models import HumanTask, Membership, ProcessInstance, User
from ...errors import Conflict, Forbidden, InvalidInput, NotFound
from .. import audit
from ..context import ServiceContext
from ..modelling.deployments import form_of
from ..people.users import Actor
from ..running.instance_store import (
    TaskRow,
    lock_row_of_instance,
    save_workflow,
)
from ..running.states import refuse_if_suspended
from ..uow import UnitOfWork
from . import completion
from .task_groups import available_to, groups_of, in_groups_of, names_of, other_groups

SCOPES = ("mine", "available", "all")


_SUMMARY_COLUMNS = tuple(
    HumanTask.__table__.c[name]
    for name in (
        "id",
        "instance_id",
        "model_id",
        "element_id",
        "name",
        "titles",
        "lane",
        "assignee_id",
        "due_at",
        "reserved",
        "created_at",
    )
)


def task_summary(
    task: HumanTask | TaskRow | Row, usernames: Mapping[int, str] | None = None
) -> dict[str, Any]:
    return {
        "id": task.id,
        "instance_id": task.instance_id,
        "process_model": task.model_id,
        "name": task.element_id,
        "title": task.name,
        "titles": task.titles,
        "lane": task.lane,
        "assignee": (usernames or {}).get(task.assignee_id) if task.assignee_id else None,
        "due_at": task.due_at.isoformat() if task.due_at else None,
        "reserved": bool(task.reserved),
        "created_at": task.created_at.isoformat(),
    }


def inbox_order(task: HumanTask | TaskRow) -> tuple[datetime, str]:
    """The order the inbox lists tasks in (the ORDER BY of list_tasks)."""
    return task.created_at, task.id


def usernames(uow: UnitOfWork, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    return {
        row[0]: row[1] for row in uow.session.execute(select(User.id, User.username).where(User.id.in_(ids)))
    }


def list_tasks(
    ctx: ServiceContext,
    actor: Actor,
    *,
    scope: str = "mine",
    model_id: str | None = None,
    instance_id: int | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[dict[str, Any]]:
    if scope not in SCOPES:
        raise InvalidInput("unknown scope", [{"field": "scope", "message": f"one of {', '.join(SCOPES)}"}])
    # Plain rows of the columns a summary shows: a page may hold 1,000 tasks, and ORM objects
    # would cost several times more to build.
    if scope == "all" and not actor.is_admin:
        raise Forbidden("only administrators may list all tasks")
    with ctx.uow() as uow:
        query = select(*_SUMMARY_COLUMNS)
        if scope == "mine":
            query = query.where(HumanTask.assignee_id == actor.user_id)
        elif scope == "available":
            query = query.where(available_to(uow, actor))
        if model_id:
            query = query.where(HumanTask.model_id == model_id)
        if instance_id is not None:
            query = query.where(HumanTask.instance_id == instance_id)
        order = query.order_by(HumanTask.created_at, HumanTask.id)
        query = order.limit(max(1, min(limit, 1000))).offset(offset)
        rows = list(uow.session.execute(query))
        names = usernames(uow, {r.assignee_id for r in rows if r.assignee_id})
        return [task_summary(r, names) for r in rows]


def _task(uow: UnitOfWork, task_id: str) -> HumanTask:
    task = uow.session.get(HumanTask, task_id)
    if task is None:
        raise NotFound(f"task {task_id} not found")
    return task


def _may_see(uow: UnitOfWork, actor: Actor, task: HumanTask) -> bool:
    if actor.is_admin or task.assignee_id == actor.user_id or task.group_name in actor.groups:
        return True
    return in_groups_of(actor, task, other_groups(uow, [task.id]).get(task.id, ()))


def get_task(ctx: ServiceContext, actor: Actor, task_id: str) -> dict[str, Any]:
    with ctx.uow() as uow:
        task = _task(uow, task_id)
        if not _may_see(uow, actor, task):
            raise Forbidden("this task belongs to a group you are not in")
        instance = uow.session.get(ProcessInstance, task.instance_id)
        assert instance is not None
        view = task_summary(task, usernames(uow, {task.assignee_id} if task.assignee_id else set()))
        view["form"] = {
            "schema": form_of(ctx, uow, instance.version_id, task.form_schema) if task.form_schema else None,
            "ui_schema": form_of(ctx, uow, instance.version_id, task.form_ui_schema)
            if task.form_ui_schema
            else None,
        }
        view["data"] = instance.data
        view["instructions"] = task.instructions
        view["instruction_texts"] = dict(task.instruction_texts or {})
        return view


def _locked_task(uow: UnitOfWork, task_id: str) -> tuple[HumanTask, ProcessInstance]:
    """The task and its instance under the instance's row lock; 409 if the task is gone."""
    locked = lock_row_of_instance(uow, HumanTask, task_id)
    if locked is None:
        raise Conflict(f"task {task_id} is already completed or no longer exists")
    instance, task = locked
    return task, instance


def _is_member(uow: UnitOfWork, user_id: int, groups: set[str]) -> bool:
    from ...db.models import Group

    query = (
        select(Membership.id)
        .join(Group, Group.id == Membership.group_id)
        .where(Membership.user_id == user_id, Group.name.in_(sorted(groups)))
    )
    return uow.session.scalars(query).first() is not None


def claim_task(ctx: ServiceContext, actor: Actor, task_id: str) -> dict[str, Any]:
    with ctx.uow(write=True) as uow:
        task, instance = _locked_task(uow, task_id)
        groups = groups_of(task, other_groups(uow, [task.id]).get(task.id, ()))
        if not groups & actor.groups:
            raise Forbidden(f"only members of {names_of(groups)} may claim this task")
        refuse_if_suspended(instance, "claimed")
        if task.assignee_id not in (None, actor.user_id):
            raise Conflict("the task is already claimed by someone else")
        task.assignee_id = actor.user_id
        audit.record(
            uow,
            at=ctx.now(),
            actor=actor.username,
            action="task.claimed",
            instance_id=instance.id,
            task_id=task.id,
            element_id=task.element_id,
        )
        view = task_summary(task, {actor.user_id: actor.username} if actor.user_id else {})
        uow.commit()
    return view


def unclaim_task(ctx: ServiceContext, actor: Actor, task_id: str) -> dict[str, Any]:
    with ctx.uow(write=True) as uow:
        task, instance = _locked_task(uow, task_id)
        if task.assignee_id is None:
            raise Conflict("the task is not claimed")
        overrides = actor.is_admin or task.group_name in actor.lead_of
        if task.assignee_id != actor.user_id and not overrides:
            raise Forbidden("only the assignee, a group lead or an administrator may release this task")
        if task.reserved and not overrides:
            raise Forbidden(
                "the procedure reserves this task for its assignee: only a group lead or an "
                "administrator may release it"
            )
        task.assignee_id = None
        audit.record(
            uow,
            at=ctx.now(),
            actor=actor.username,
            action="task.unclaimed",
            instance_id=instance.id,
            task_id=task.id,
            element_id=task.element_id,
        )
        view = task_summary(task)
        uow.commit()
    return view


def assign_task(ctx: ServiceContext, actor: Actor, task_id: str, username: str | None) -> dict[str, Any]:
    with ctx.uow(write=True) as uow:
        task, instance = _locked_task(uow, task_id)
        if not (actor.is_admin or task.group_name in actor.lead_of):
            raise Forbidden("only administrators and the group's leads may assign tasks")
        refuse_if_suspended(instance, "assigned")
        assignee = (
            uow.session.scalars(select(User).where(User.username == username)).first() if username else None
        )
        groups = groups_of(task, other_groups(uow, [task.id]).get(task.id, ()))
        if username and (assignee is None or not _is_member(uow, assignee.id, groups)):
            raise InvalidInput(
                "the assignee must be a member of the task's group",
                [{"field": "username", "message": f"'{username}' is not in {names_of(groups)}"}],
            )
        task.assignee_id = assignee.id if assignee else None
        audit.record(
            uow,
            at=ctx.now(),
            actor=actor.username,
            action="task.assigned",
            instance_id=instance.id,
            task_id=task.id,
            element_id=task.element_id,
            details={"assignee": username},
        )
        view = task_summary(task, {assignee.id: assignee.username} if assignee else {})
        uow.commit()
    return view


def complete_task(ctx: ServiceContext, actor: Actor, task_id: str, data: Any) -> dict[str, Any]:
    """Complete a task, in the order of `completion`'s steps: work it out (ahead of the instance's
    lock where this process can), lock the instance and keep or redo that work, save the instance
    with its side tables, write the audit record; then answer with the tasks that follow."""
    if not isinstance(data, Mapping):
        raise InvalidInput("data must be a JSON object", [{"field": "$", "message": "expected an object"}])
    ahead = completion.work_out_ahead(ctx, actor, task_id, data)
    with ctx.uow(write=True) as uow:
        done = completion.under_the_lock(ctx, uow, actor, task_id, data, ahead)
        instance, workflow, error, captured, _ = done.completion
        next_tasks = save_workflow(
            ctx, uow, instance, workflow, error=error, tasks=done.open_tasks, captured=captured
        )
        completion.record(ctx, uow, actor, task_id, done)
        uow.commit()  # lets go of SQLite's write lock before the answer is built
    return _answer(ctx, actor, instance, next_tasks)


def _answer(
    ctx: ServiceContext, actor: Actor, instance: ProcessInstance, next_tasks: list[TaskRow]
) -> dict[str, Any]:
    """The instance's status and the tasks that follow which the actor may work on."""
    mine = {actor.user_id: actor.username} if actor.user_id else {}
    # Other groups matter only for tasks the actor's groups do not reach by their lane.
    unreached = [t.id for t in next_tasks if t.assignee_id is None and t.group_name not in actor.groups]
    others: dict[str, set[str]] = {}
    if unreached:
        with ctx.uow() as uow:
            others = other_groups(uow, unreached)
    return {
        "instance_id": instance.id,
        "status": instance.status,
        "next_tasks": [
            task_summary(t, mine)
            for t in sorted(next_tasks, key=inbox_order)
            if _may_work_on(actor, t, others.get(t.id, ()))
        ],
    }


def _may_work_on(actor: Actor, task: HumanTask | TaskRow, others: Collection[str] = ()) -> bool:
    if task.assignee_id is not None:
        return task.assignee_id == actor.user_id
    return in_groups_of(actor, task, others)
