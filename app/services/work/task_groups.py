"""Who may take a task: the members of its lane's group, and of the groups its user task names
in `other_groups` (kept in `human_task_groups`, so the inbox finds them by index)."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import Any

from sqlalchemy import and_, or_, select

from ...db.models import HumanTask, HumanTaskGroup
from ..people.users import Actor
from ..uow import UnitOfWork


def other_groups(uow: UnitOfWork, task_ids: Iterable[str]) -> dict[str, set[str]]:
    """The other groups of each task that has some."""
    ids = sorted(set(task_ids))
    found: dict[str, set[str]] = {}
    if ids:
        rows = uow.session.execute(
            select(HumanTaskGroup.task_id, HumanTaskGroup.group_name).where(HumanTaskGroup.task_id.in_(ids))
        )
        for task_id, group in rows:
            found.setdefault(task_id, set()).add(group)
    return found


def groups_of(task: Any, others: Collection[str] = ()) -> set[str]:
    """All the groups whose members may take the task."""
    return ({task.group_name} if task.group_name else set()) | set(others)


def names_of(groups: Collection[str]) -> str:
    """Groups as a refusal names them: 'council' or 'secretariat'."""
    return " or ".join(f"'{name}'" for name in sorted(groups))


def in_groups_of(actor: Actor, task: Any, others: Collection[str] = ()) -> bool:
    return bool(groups_of(task, others) & actor.groups)


def available_to(uow: UnitOfWork, actor: Actor) -> Any:
    """SQL condition: unclaimed tasks that a group of the actor may take.

    The other-groups branch is added only when some open task names one of the actor's groups
    (one look at the primary key): an OR defeats the index the inbox is ordered by, and most
    people take tasks only by their lanes."""
    groups = sorted(actor.groups)
    unclaimed_by_lane = and_(HumanTask.assignee_id.is_(None), HumanTask.group_name.in_(groups))
    by_other_group = select(HumanTaskGroup.task_id).where(HumanTaskGroup.group_name.in_(groups))
    if uow.session.scalar(by_other_group.limit(1)) is None:
        return unclaimed_by_lane
    return or_(unclaimed_by_lane, and_(HumanTask.assignee_id.is_(None), HumanTask.id.in_(by_other_group)))
