"""Administering people: a user with their groups and leads, a new password, deactivation (their
open claims go back to their groups' queues; ballots reserved for them stay and are listed, since
only a person may cast their own vote) and reactivation. Each change is one audit record."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import select, update
from werkzeug.security import generate_password_hash

from ...db.models import Group, HumanTask, Membership, User
from ...errors import InvalidInput, NotFound
from .. import audit
from ..context import ServiceContext
from ..uow import UnitOfWork
from .users import Actor, user_view


def _user(uow: UnitOfWork, username: str) -> User:
    user = uow.session.scalars(select(User).where(User.username == username)).first()
    if user is None:
        raise NotFound(f"user '{username}' not found")
    return user


def all_groups(ctx: ServiceContext, actor: Actor) -> list[str]:
    actor.require_admin()
    with ctx.uow() as uow:
        return sorted(uow.session.scalars(select(Group.name)))


def user_detail(ctx: ServiceContext, actor: Actor, username: str) -> dict[str, Any]:
    """A user with their groups, the groups they lead, and every group there is."""
    actor.require_admin()
    with ctx.uow() as uow:
        user = _user(uow, username)
        view = user_view(user)
        view["leads"] = sorted(m.group.name for m in user.memberships if m.is_lead)
        view["all_groups"] = sorted(uow.session.scalars(select(Group.name)))
        return view


def set_memberships(
    ctx: ServiceContext, actor: Actor, username: str, groups: Iterable[str], leads: Iterable[str]
) -> dict[str, Any]:
    """Replace the user's groups; a lead is a member too. Only existing groups."""
    actor.require_admin()
    wanted, leading = set(groups), set(leads)
    with ctx.uow(write=True) as uow:
        user = _user(uow, username)
        known = {
            g.name: g
            for g in uow.session.scalars(select(Group).where(Group.name.in_(sorted(wanted | leading))))
        }
        unknown = sorted((wanted | leading) - set(known))
        if unknown:
            raise InvalidInput(
                "no such group", [{"field": "groups", "message": f"unknown: {', '.join(unknown)}"}]
            )
        before = sorted(m.group.name for m in user.memberships)
        user.memberships.clear()
        uow.session.flush()
        for name in sorted(wanted | leading):
            user.memberships.append(Membership(group=known[name], is_lead=name in leading))
        audit.record(
            uow,
            at=ctx.now(),
            actor=actor.username,
            action="user.groups_set",
            details={
                "username": username,
                "before": before,
                "groups": sorted(wanted | leading),
                "leads": sorted(leading),
            },
        )
        uow.commit()
    ctx.actors_cache.clear()
    return user_detail(ctx, actor, username)


def set_password(ctx: ServiceContext, actor: Actor, username: str, password: str) -> None:
    actor.require_admin()
    if len(password or "") < 8:
        raise InvalidInput(
            "the password is too short", [{"field": "password", "message": "at least 8 characters"}]
        )
    with ctx.uow(write=True) as uow:
        _user(uow, username).password_hash = generate_password_hash(password)
        audit.record(
            uow,
            at=ctx.now(),
            actor=actor.username,
            action="user.password_set",
            details={"username": username},
        )
        uow.commit()


def set_active(ctx: ServiceContext, actor: Actor, username: str, active: bool) -> dict[str, Any]:
    """Deactivate (claims released, reserved ballots left and reported) or reactivate a user."""
    actor.require_admin()
    with ctx.uow(write=True) as uow:
        user = _user(uow, username)
        user.is_active = active
        released: list[str] = []
        reserved: list[str] = []
        if not active:
            claimed = select(HumanTask.id, HumanTask.reserved).where(HumanTask.assignee_id == user.id)
            for task_id, is_reserved in uow.session.execute(claimed):
                (reserved if is_reserved else released).append(task_id)
            if released:
                uow.session.execute(
                    update(HumanTask).where(HumanTask.id.in_(released)).values(assignee_id=None)
                )
        audit.record(
            uow,
            at=ctx.now(),
            actor=actor.username,
            action="user.deactivated" if not active else "user.reactivated",
            details={"username": username, "released": sorted(released), "reserved": sorted(reserved)},
        )
        uow.commit()
    ctx.actors_cache.clear()
    return {
        "username": username,
        "is_active": active,
        "released": sorted(released),
        "reserved": sorted(reserved),
    }


def reserved_for_inactive(ctx: ServiceContext, actor: Actor) -> list[dict[str, Any]]:
    """Open tasks reserved for people who can no longer sign in (a ballot of someone who left)."""
    actor.require_admin()
    query = (
        select(HumanTask.id, HumanTask.instance_id, HumanTask.element_id, HumanTask.titles, User.username)
        .join(User, User.id == HumanTask.assignee_id)
        .where(HumanTask.reserved.is_(True), User.is_active.is_(False))
        .order_by(HumanTask.instance_id)
    )
    with ctx.uow() as uow:
        return [
            {"task_id": t, "instance_id": i, "element_id": e, "titles": titles or {}, "username": u}
            for t, i, e, titles, u in uow.session.execute(query)
        ]
