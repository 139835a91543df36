"""Demo data for the embedded default: users in every group and instances in several states."""

from __future__ import annotations

import os
from typing import Any

from sqlalchemy import func, select

from ..db.models import ProcessInstance, ProcessModel, User
from ..errors import AppError
from . import instances, users
from .context import ServiceContext
from .users import SYSTEM

DEFAULT_DEMO_PASSWORD = "demo-assembly-2026"

# (username, display name, language, groups, groups led)
DEMO_PEOPLE: list[tuple[str, str, str, list[str], list[str]]] = [
    ("admin", "Administrator", "en", ["admins", "analysts"], []),
    ("analyst", "Aigerim Analyst", "ru", ["analysts"], []),
    ("chairman", "Chairman of the Assembly", "kk", ["chairman", "council"], []),
    ("sec.head", "Head of the Secretariat", "kk", ["secretariat_head", "secretariat"], ["secretariat"]),
    ("sec.aliya", "Aliya Secretariat", "kk", ["secretariat"], []),
    ("sec.dmitry", "Dmitry Secretariat", "ru", ["secretariat"], []),
    ("sec.john", "John Secretariat", "en", ["secretariat"], []),
    ("pres.office", "President's Office", "ru", ["president_office"], []),
    ("expert.nurlan", "Nurlan Expert", "kk", ["expert_council"], []),
    ("expert.olga", "Olga Expert", "ru", ["expert_council"], []),
]
DEPUTIES = ["deputy1", "deputy2", "deputy3"]
COUNCIL_SIZE = 15


def _demo_people() -> list[tuple[str, str, str, list[str], list[str]]]:
    people = list(DEMO_PEOPLE)
    for index, username in enumerate(DEPUTIES, start=1):
        people.append((username, f"Deputy Chairman {index}", "kk", ["council", "deputy_chairmen"], []))
    # The Chairman and the three deputies sit on the Council too: fill it up to its demo size.
    for index in range(1, COUNCIL_SIZE - len(DEPUTIES)):
        people.append((f"council{index:02d}", f"Council member {index}", "kk", ["council"], []))
    return people


def create_demo_users(ctx: ServiceContext) -> str | None:
    """Create the demo users on an empty database; returns their password, or None."""
    with ctx.uow() as uow:
        if uow.session.scalar(select(func.count(User.id))):
            return None
    password = os.environ.get("DEMO_PASSWORD") or DEFAULT_DEMO_PASSWORD
    for username, name, language, groups, leads in _demo_people():
        users.create_user(
            ctx,
            SYSTEM,
            username=username,
            password=password,
            display_name=name,
            groups=groups,
            leads=leads,
            language=language,
        )
    return password


def demo_start_data(ctx: ServiceContext) -> dict[str, list[dict[str, Any]]]:
    """Start data for demo instances, per process model (several states each)."""
    return {}


def create_demo_instances(ctx: ServiceContext) -> int:
    with ctx.uow() as uow:
        if uow.session.scalar(select(func.count(ProcessInstance.id))):
            return 0
        models = set(uow.session.scalars(select(ProcessModel.id)))
    started = 0
    for model_id, starts in demo_start_data(ctx).items():
        if model_id not in models:
            continue
        for data in starts:
            try:
                instances.start_instance(ctx, SYSTEM, model_id, data)
                started += 1
            except AppError:
                continue
    return started
