"""Users, groups and memberships; sign-in and bearer tokens; the language each user reads."""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from werkzeug.security import check_password_hash, generate_password_hash

from ...db.models import Group, Membership, User
from ...errors import Conflict, Forbidden, InvalidInput, NotFound, Unauthorized
from .. import audit
from ..context import ServiceContext
from ..uow import UnitOfWork

LANGUAGES = ("kk", "ru", "en")
SYSTEM_GROUPS = ("analysts", "admins")
# The groups the shipped procedures have lanes for (bpmn/), with their English titles.
PROCEDURE_GROUPS = {
    "secretariat": "Secretariat",
    "secretariat_head": "Head of the Secretariat",
    "council": "Council of the Assembly",
    "chairman": "Chairman of the Assembly",
    "president_office": "Office of the President",
    "expert_council": "Scientific and Expert Council",
    "expert_council_secretary": "Secretary of the Scientific and Expert Council",
    "secretariat_deputy_head": "Deputy Head of the Secretariat",
}
SYSTEM_ACTOR = "system"


@dataclass(frozen=True)
class Actor:
    """Who is acting, with what they may do; passed to every use case."""

    username: str
    user_id: int | None
    display_name: str
    language: str
    groups: frozenset[str]
    lead_of: frozenset[str]

    @property
    def is_admin(self) -> bool:
        return "admins" in self.groups

    @property
    def is_analyst(self) -> bool:
        return "analysts" in self.groups or self.is_admin

    def require_admin(self) -> None:
        if not self.is_admin:
            raise Forbidden("only administrators may do this")


SYSTEM = Actor(SYSTEM_ACTOR, None, "System", "en", frozenset({"admins"}), frozenset())


def _actor_of(user: User) -> Actor:
    groups = frozenset(m.group.name for m in user.memberships)
    leads = frozenset(m.group.name for m in user.memberships if m.is_lead)
    return Actor(user.username, user.id, user.display_name, user.language, groups, leads)


def _load_user(uow: UnitOfWork, username: str) -> User | None:
    query = (
        select(User)
        .where(User.username == username)
        .options(selectinload(User.memberships).selectinload(Membership.group))
    )
    return uow.session.scalars(query).first()


def _ensure_group(uow: UnitOfWork, name: str) -> Group:
    group = uow.session.scalars(select(Group).where(Group.name == name)).first()
    if group is None:
        group = uow.add(Group(name=name, title=name))
        uow.session.flush()
    return group


def user_view(user: User) -> dict[str, object]:
    return {
        "username": user.username,
        "display_name": user.display_name,
        "language": user.language,
        "groups": sorted(m.group.name for m in user.memberships),
        "is_active": user.is_active,
    }


def create_user(
    ctx: ServiceContext,
    actor: Actor,
    *,
    username: str,
    password: str,
    display_name: str = "",
    groups: Iterable[str] = (),
    language: str = "kk",
    leads: Iterable[str] = (),
) -> dict[str, object]:
    actor.require_admin()
    problems = []
    if not username or len(username) > 64 or not username.replace("_", "").replace(".", "").isalnum():
        problems.append(
            {"field": "username", "message": "letters, digits, '.' and '_' only, 1-64 characters"}
        )
    if not password or len(password) < 8:
        problems.append({"field": "password", "message": "at least 8 characters"})
    if language not in LANGUAGES:
        problems.append({"field": "language", "message": f"one of {', '.join(LANGUAGES)}"})
    if problems:
        raise InvalidInput("the user cannot be created", problems)
    with ctx.uow(write=True) as uow:
        if _load_user(uow, username) is not None:
            raise Conflict(f"user '{username}' already exists")
        user = uow.add(
            User(
                username=username,
                password_hash=generate_password_hash(password),
                display_name=display_name or username,
                language=language,
                created_at=ctx.now(),
            )
        )
        lead_set = set(leads)
        for name in sorted(set(groups) | lead_set):
            user.memberships.append(Membership(group=_ensure_group(uow, name), is_lead=name in lead_set))
        uow.session.flush()
        audit.record(
            uow,
            at=ctx.now(),
            actor=actor.username,
            action="user.created",
            details={"username": username, "groups": sorted(set(groups) | lead_set)},
        )
        view = user_view(user)
        uow.commit()
    return view


def list_users(ctx: ServiceContext, actor: Actor) -> list[dict[str, object]]:
    actor.require_admin()
    with ctx.uow() as uow:
        query = (
            select(User)
            .order_by(User.username)
            .options(selectinload(User.memberships).selectinload(Membership.group))
        )
        return [user_view(u) for u in uow.session.scalars(query)]


def display_names(ctx: ServiceContext) -> dict[str, str]:
    """Every user's name as people read it, by username (one query; pages name people by it)."""
    with ctx.uow() as uow:
        rows = uow.session.execute(select(User.username, User.display_name))
        return {username: name for username, name in rows}


def set_language(ctx: ServiceContext, actor: Actor, language: str) -> None:
    if language not in LANGUAGES:
        raise InvalidInput("unknown language", [{"field": "$.language", "message": ", ".join(LANGUAGES)}])
    with ctx.uow(write=True) as uow:
        user = uow.session.scalars(select(User).where(User.username == actor.username)).first()
        if user is None:
            raise NotFound(f"user '{actor.username}' not found")
        if user.language == language:
            return
        user.language = language
        audit.record(
            uow,
            at=ctx.now(),
            actor=actor.username,
            action="user.language_set",
            details={"language": language},
        )
        uow.commit()


def group_members(uow: UnitOfWork, name: str) -> list[str]:
    query = (
        select(User.username)
        .join(Membership, Membership.user_id == User.id)
        .join(Group, Group.id == Membership.group_id)
        .where(Group.name == name, User.is_active.is_(True))
        .order_by(User.username)
    )
    return list(uow.session.scalars(query))


def get_group_members(ctx: ServiceContext, actor: Actor, name: str) -> list[str]:
    actor.require_admin()
    with ctx.uow() as uow:
        if uow.session.scalars(select(Group).where(Group.name == name)).first() is None:
            raise NotFound(f"group '{name}' does not exist")
        return group_members(uow, name)


def set_group_members(ctx: ServiceContext, actor: Actor, name: str, usernames: Iterable[str]) -> list[str]:
    """Replace the membership of a group (created if missing); leads keep their role."""
    actor.require_admin()
    wanted = sorted(set(usernames))
    with ctx.uow(write=True) as uow:
        users = {u.username: u for u in uow.session.scalars(select(User).where(User.username.in_(wanted)))}
        missing = [n for n in wanted if n not in users]
        if missing:
            raise InvalidInput(
                "unknown users", [{"field": "members", "message": f"no user '{n}'"} for n in missing]
            )
        group = _ensure_group(uow, name)
        before = sorted(m.user.username for m in group.memberships)
        group.memberships[:] = [m for m in group.memberships if m.user.username in users]
        present = {m.user.username for m in group.memberships}
        for username in wanted:
            if username not in present:
                group.memberships.append(Membership(user=users[username]))
        audit.record(
            uow,
            at=ctx.now(),
            actor=actor.username,
            action="group.members_set",
            details={"group": name, "before": before, "after": wanted},
        )
        uow.commit()
        ctx.actors_cache.clear()
    return wanted


def ensure_groups(ctx: ServiceContext, titles: dict[str, str]) -> list[str]:
    """Create the groups that do not exist yet; returns the names created."""
    with ctx.uow(write=True) as uow:
        missing = sorted(set(titles) - group_names(uow))
        for name in missing:
            uow.add(Group(name=name, title=titles[name]))
        if missing:
            audit.record(
                uow, at=ctx.now(), actor=SYSTEM_ACTOR, action="groups.created", details={"groups": missing}
            )
        uow.commit()
    return missing


def group_names(uow: UnitOfWork) -> set[str]:
    return set(uow.session.scalars(select(Group.name)))


def authenticate(ctx: ServiceContext, username: str, password: str) -> Actor:
    with ctx.uow() as uow:
        user = _load_user(uow, username)
        if user is None or not user.is_active or not check_password_hash(user.password_hash, password):
            raise Unauthorized("wrong username or password")
        return _actor_of(user)


def actor_for(ctx: ServiceContext, username: str) -> Actor:
    with ctx.uow() as uow:
        user = _load_user(uow, username)
        if user is None or not user.is_active:
            raise Unauthorized("unknown or inactive user")
        return _actor_of(user)


def _token_serializer(ctx: ServiceContext) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(ctx.settings.secret_key, salt="api-token")


def issue_token(ctx: ServiceContext, actor: Actor) -> str:
    return _token_serializer(ctx).dumps({"u": actor.username})


def actor_from_token(ctx: ServiceContext, token: str) -> Actor:
    # A client sends the same token with every request: its signature is checked once a minute,
    # its age every time.
    username, issued_at = ctx.tokens_cache.get_or_create(token, lambda: _verified(ctx, token))
    if time.time() - issued_at > ctx.settings.token_max_age_seconds:
        raise Unauthorized("the token has expired")
    return ctx.actors_cache.get_or_create(username, lambda: actor_for(ctx, username))


def _verified(ctx: ServiceContext, token: str) -> tuple[str, float]:
    try:
        payload, issued_at = _token_serializer(ctx).loads(
            token, max_age=ctx.settings.token_max_age_seconds, return_timestamp=True
        )
    except SignatureExpired as exc:
        raise Unauthorized("the token has expired") from exc
    except BadSignature as exc:
        raise Unauthorized("invalid token") from exc
    return payload["u"], issued_at.timestamp()


def ensure_admin(ctx: ServiceContext, password: str) -> bool:
    """Create the first administrator on an empty database; False when users exist."""
    with ctx.uow() as uow:
        if uow.session.scalars(select(User.id).limit(1)).first() is not None:
            return False
    create_user(
        ctx,
        SYSTEM,
        username="admin",
        password=password,
        display_name="Administrator",
        groups=["admins", "analysts"],
        language="en",
    )
    return True
