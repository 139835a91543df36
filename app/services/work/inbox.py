"""The task inbox as a read model: filtered, sorted, paginated pages of open tasks, and saved filters.

Every query starts from an indexed predicate of `human_tasks` (assignee, group or due date) and
reads the assignees' names in one extra query per page, never one per row.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import String, and_, cast, delete, func, or_, select

from ...db.models import HumanTask, ProcessModel, SavedFilter, User
from ...errors import Forbidden, InvalidInput, NotFound
from .. import audit
from ..context import ServiceContext
from ..people.users import Actor
from ..uow import UnitOfWork
from .task_groups import available_to

SCOPES = ("mine", "available", "all")
DUE_FILTERS = ("", "overdue", "soon", "none")
SORTS = {
    "created": (HumanTask.created_at, HumanTask.id),
    "due": (HumanTask.due_at, HumanTask.id),
    "process": (HumanTask.model_id, HumanTask.created_at),
    "title": (HumanTask.name, HumanTask.created_at),
}
SOON = timedelta(days=2)
QUERY_KEYS = ("scope", "process", "due", "q", "sort", "desc")


@dataclass(frozen=True)
class InboxQuery:
    scope: str = "mine"
    process: str = ""
    due: str = ""
    q: str = ""
    sort: str = "due"
    desc: bool = False
    page: int = 1
    per_page: int = 25

    @classmethod
    def from_mapping(cls, values: Any, *, default_scope: str = "mine") -> InboxQuery:
        """From request arguments or a saved filter; unknown values fall back to the defaults."""

        def text(name: str, default: str = "") -> str:
            value = values.get(name)
            return str(value).strip()[:200] if value not in (None, "") else default

        def number(name: str, default: int, high: int) -> int:
            try:
                return max(1, min(int(values.get(name) or default), high))
            except (TypeError, ValueError):
                return default

        scope = text("scope", default_scope)
        sort = text("sort", "due")
        due = text("due")
        return cls(
            scope=scope if scope in SCOPES else default_scope,
            process=text("process"),
            due=due if due in DUE_FILTERS else "",
            q=text("q"),
            sort=sort if sort in SORTS else "due",
            desc=str(values.get("desc") or "") in ("1", "true", "True", "on"),
            page=number("page", 1, 100_000),
            per_page=number("per_page", 25, 200),
        )

    def as_saved(self) -> dict[str, Any]:
        """The non-default criteria, as URL arguments (`desc` as "1")."""
        values = {k: getattr(self, k) for k in QUERY_KEYS if getattr(self, k) not in ("", False)}
        if self.desc:
            values["desc"] = "1"
        return values


@dataclass(frozen=True)
class InboxRow:
    id: str
    instance_id: int
    process: str
    element_id: str
    title: str
    titles: dict[str, str]
    group: str | None
    assignee: str | None
    assignee_id: int | None
    created_at: datetime
    due_at: datetime | None
    urgency: str  # "overdue", "soon" or ""
    reserved: bool = False  # kept for its assignee by the procedure (a ballot)


@dataclass(frozen=True)
class InboxPage:
    query: InboxQuery
    rows: list[InboxRow]
    total: int
    processes: list[str] = field(default_factory=list)

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.query.per_page))


def _scope_filter(uow: UnitOfWork, actor: Actor, scope: str) -> Any:
    if scope == "mine":
        return HumanTask.assignee_id == actor.user_id
    if scope == "available":
        return available_to(uow, actor)
    if not actor.is_admin:
        raise Forbidden("only administrators may list all tasks")
    return None


def _escaped(text: str) -> str:
    """The text as the JSON column stores it (non-ASCII letters as \\u escapes)."""
    return json.dumps(text)[1:-1]


def _like(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _conditions(ctx: ServiceContext, uow: UnitOfWork, actor: Actor, query: InboxQuery) -> list[Any]:
    conditions = [c for c in [_scope_filter(uow, actor, query.scope)] if c is not None]
    now = ctx.now()
    if query.process:
        conditions.append(HumanTask.model_id == query.process)
    if query.due == "overdue":
        conditions.append(HumanTask.due_at < now)
    elif query.due == "soon":
        conditions.append(and_(HumanTask.due_at >= now, HumanTask.due_at < now + SOON))
    elif query.due == "none":
        conditions.append(HumanTask.due_at.is_(None))
    if query.q:
        if query.q.isdigit():
            conditions.append(HumanTask.instance_id == int(query.q))
        else:
            titles = cast(HumanTask.titles, String)
            variants = {query.q, query.q.lower(), query.q.capitalize()}
            conditions.append(
                or_(
                    HumanTask.name.ilike(_like(query.q), escape="\\"),
                    HumanTask.model_id.ilike(_like(query.q), escape="\\"),
                    titles.ilike(_like(query.q), escape="\\"),
                    *(titles.ilike(_like(_escaped(v)), escape="\\") for v in sorted(variants)),
                )
            )
    return conditions


def urgency(due_at: datetime | None, now: datetime) -> str:
    if due_at is None:
        return ""
    if due_at < now:
        return "overdue"
    return "soon" if due_at < now + SOON else ""


def inbox_page(ctx: ServiceContext, actor: Actor, query: InboxQuery) -> InboxPage:
    order = _order(query)
    now = ctx.now()
    with ctx.uow() as uow:
        conditions = _conditions(ctx, uow, actor, query)
        rows_query = (
            select(HumanTask, User.username)
            .outerjoin(User, User.id == HumanTask.assignee_id)
            .where(*conditions)
            .order_by(*order)
            .limit(query.per_page)
            .offset((query.page - 1) * query.per_page)
        )
        total = uow.session.scalar(select(func.count()).select_from(HumanTask).where(*conditions)) or 0
        rows = [
            InboxRow(
                id=t.id,
                instance_id=t.instance_id,
                process=t.model_id,
                element_id=t.element_id,
                title=t.name,
                titles=dict(t.titles or {}),
                group=t.group_name,
                assignee=username,
                assignee_id=t.assignee_id,
                created_at=t.created_at,
                due_at=t.due_at,
                urgency=urgency(t.due_at, now),
                reserved=bool(getattr(t, "reserved", False)),
            )
            for t, username in uow.session.execute(rows_query)
        ]
        processes = list(uow.session.scalars(select(ProcessModel.id).order_by(ProcessModel.id)))
    return InboxPage(query, rows, total, processes)


def _order(query: InboxQuery) -> list[Any]:
    if query.sort == "due":
        # Soonest deadline first (latest when reversed), tasks without one last; then the newest.
        due = HumanTask.due_at.desc() if query.desc else HumanTask.due_at.asc()
        return [HumanTask.due_at.is_(None), due, HumanTask.created_at.desc(), HumanTask.id.desc()]
    return [c.desc() if query.desc else c.asc() for c in SORTS[query.sort]]


def task_counts(ctx: ServiceContext, actor: Actor) -> dict[str, int]:
    """Open tasks assigned to the actor and unclaimed tasks of their groups (two indexed counts)."""
    with ctx.uow() as uow:
        mine = uow.session.scalar(
            select(func.count()).select_from(HumanTask).where(HumanTask.assignee_id == actor.user_id)
        )
        available = 0
        if actor.groups:
            available = uow.session.scalar(
                select(func.count()).select_from(HumanTask).where(available_to(uow, actor))
            )
    return {"mine": int(mine or 0), "available": int(available or 0)}


def open_task_count(ctx: ServiceContext, actor: Actor) -> int:
    return sum(task_counts(ctx, actor).values())


# Saved filters ---------------------------------------------------------------------------------


def _filter_view(row: SavedFilter, owner: str, actor: Actor) -> dict[str, Any]:
    return {
        "id": row.id,
        "name": row.name,
        "query": dict(row.query or {}),
        "shared_group": row.shared_group,
        "owner": owner,
        "mine": row.owner_id == actor.user_id,
    }


def list_saved_filters(ctx: ServiceContext, actor: Actor) -> list[dict[str, Any]]:
    """The actor's own filters and those shared with one of their groups."""
    visible = SavedFilter.owner_id == actor.user_id
    if actor.groups:
        visible = or_(visible, SavedFilter.shared_group.in_(sorted(actor.groups)))
    query = (
        select(SavedFilter, User.username)
        .join(User, User.id == SavedFilter.owner_id)
        .where(visible)
        .order_by(SavedFilter.name, SavedFilter.id)
    )
    with ctx.uow() as uow:
        return [_filter_view(row, owner, actor) for row, owner in uow.session.execute(query)]


def save_filter(
    ctx: ServiceContext, actor: Actor, name: str, query: InboxQuery, shared_group: str | None = None
) -> dict[str, Any]:
    name = (name or "").strip()
    problems = []
    if not name or len(name) > 100:
        problems.append({"field": "$.name", "message": "a name of 1-100 characters is required"})
    if shared_group and shared_group not in actor.groups:
        problems.append({"field": "$.shared_group", "message": "you may only share with your own groups"})
    if problems:
        raise InvalidInput("the filter was not saved", problems)
    if actor.user_id is None:
        raise Forbidden("only users may save filters")
    with ctx.uow(write=True) as uow:
        row = uow.add(
            SavedFilter(
                owner_id=actor.user_id,
                name=name,
                query=query.as_saved(),
                shared_group=shared_group or None,
                created_at=ctx.now(),
            )
        )
        uow.session.flush()
        audit.record(
            uow,
            at=ctx.now(),
            actor=actor.username,
            action="filter.saved",
            details={"id": row.id, "name": name, "shared_group": row.shared_group},
        )
        view = _filter_view(row, actor.username, actor)
        uow.commit()
    return view


def delete_filter(ctx: ServiceContext, actor: Actor, filter_id: int) -> None:
    with ctx.uow(write=True) as uow:
        row = uow.session.get(SavedFilter, filter_id)
        if row is None:
            raise NotFound(f"saved filter {filter_id} not found")
        if row.owner_id != actor.user_id and not actor.is_admin:
            raise Forbidden("only the owner may delete a saved filter")
        uow.session.execute(delete(SavedFilter).where(SavedFilter.id == filter_id))
        audit.record(
            uow, at=ctx.now(), actor=actor.username, action="filter.deleted", details={"id": filter_id}
        )
        uow.commit()
