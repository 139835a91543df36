"""Demo data for the embedded default: users in every group and instances in several states."""

from __future__ import annotations

import os
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select

from ...db.models import ProcessInstance, ProcessModel, User
from ...errors import AppError
from ..context import ServiceContext
from ..people import users
from ..people.users import SYSTEM
from ..running import instances
from ..work import tasks

DEFAULT_DEMO_PASSWORD = "demo-assembly-2026"

# (username, display name, language, groups, groups led)
DEMO_PEOPLE: list[tuple[str, str, str, list[str], list[str]]] = [
    ("admin", "Administrator", "en", ["admins", "analysts"], []),
    ("analyst", "Aigerim Analyst", "ru", ["analysts"], []),
    ("chairman", "Chairman of the Assembly", "kk", ["chairman", "council"], []),
    ("sec.head", "Head of the Secretariat", "kk", ["secretariat_head", "secretariat"], ["secretariat"]),
    ("sec.deputy", "Deputy Head of the Secretariat", "ru", ["secretariat_deputy_head", "secretariat"], []),
    ("sec.aliya", "Aliya Secretariat", "kk", ["secretariat"], []),
    ("sec.dmitry", "Dmitry Secretariat", "ru", ["secretariat"], []),
    ("sec.john", "John Secretariat", "en", ["secretariat"], []),
    ("pres.office", "President's Office", "ru", ["president_office"], []),
    ("expert.nurlan", "Nurlan Expert", "kk", ["expert_council", "expert_council_secretary"], []),
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
    """Create the demo users that do not exist yet; returns their password, or None."""
    with ctx.uow() as uow:
        existing = set(uow.session.scalars(select(User.username)))
    people = [p for p in _demo_people() if p[0] not in existing]
    if not people:
        return None
    password = os.environ.get("DEMO_PASSWORD") or DEFAULT_DEMO_PASSWORD
    for username, name, language, groups, leads in people:
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


def _local(ctx: ServiceContext, days: int, hour: int = 18, minute: int = 30) -> str:
    """An ISO date-time with offset, `days` from now, in the application's time zone."""
    from zoneinfo import ZoneInfo

    moment = ctx.now().astimezone(ZoneInfo(ctx.settings.timezone)) + timedelta(days=days)
    return moment.replace(hour=hour, minute=minute, second=0, microsecond=0).isoformat()


def _complete(ctx: ServiceContext, instance_id: int, element_id: str, username: str, data: dict) -> None:
    actor = users.actor_for(ctx, username)
    for task in tasks.list_tasks(ctx, SYSTEM, scope="all", instance_id=instance_id):
        if task["name"] == element_id:
            tasks.complete_task(ctx, actor, task["id"], data)
            return


def _poll_data(ctx: ServiceContext, question: str, days: int) -> dict[str, Any]:
    return {
        "decision_method": "poll",
        "poll_question": question,
        "poll_description": None,
        "poll_deadline": _local(ctx, days),
        "fixed_question": None,
    }


def _registration(ctx: ServiceContext, number: str, **overrides: Any) -> dict[str, Any]:
    data = {
        "received_at": _local(ctx, -1, 11, 15),
        "registration_number": number,
        "appeal_type": "complaint",
        "appeal_language": "kk",
        "anonymous": False,
        "applicant_kind": "individual",
        "applicant_name": "Асқар Нұрланұлы",
        "applicant_id_number": "850101300123",
        "applicant_address": "Астана қ., Мәңгілік Ел д., 8",
        "registration_notice": "handed_over",
        "substance": "Мәдени орталықтың үй-жайын беру туралы өтініш.",
        "reports_crime_or_threat": False,
        "within_competence": True,
    }
    data.update(overrides)
    return data


def create_demo_instances(ctx: ServiceContext) -> int:
    """Instances of each procedure in different states, so every demo inbox has work."""
    with ctx.uow() as uow:
        if uow.session.scalar(select(func.count(ProcessInstance.id))):
            return 0
        models = set(uow.session.scalars(select(ProcessModel.id)))
    started = 0

    def start(model_id: str, data: dict[str, Any]) -> int | None:
        nonlocal started
        if model_id not in models:
            return None
        try:
            view = instances.start_instance(ctx, SYSTEM, model_id, data)
        except AppError:
            return None
        started += 1
        return int(view["id"])

    # Council polls: one waiting for the Chairman, one open for ballots with a few votes cast.
    waiting = start("council_poll", _poll_data(ctx, "", 7))
    if waiting:
        _complete(
            ctx,
            waiting,
            "Task_PreparePoll",
            "sec.aliya",
            {
                "poll_question": "Approve the plan of events for the Day of Unity of the Peoples?",
                "poll_deadline": _local(ctx, 7),
                "convened_by": "deputy_chairmen",
                "convening_reference": "Proposal of the Deputy Chairmen No. 3",
            },
        )
    open_poll = start("council_poll", _poll_data(ctx, "", 5))
    if open_poll:
        _complete(
            ctx,
            open_poll,
            "Task_PreparePoll",
            "sec.dmitry",
            {
                "poll_question": "Recommend the annual report of the Assembly to the Session?",
                "poll_deadline": _local(ctx, 5),
                "convened_by": "deputy_chairmen",
                "convening_reference": "Proposal of the Deputy Chairmen No. 4",
            },
        )
        _complete(ctx, open_poll, "Task_ChairmanAgreement", "chairman", {"chairman_decision": "agree"})
    start("council_poll", _poll_data(ctx, "", 10))
    # A rotation of the Deputy Chairmen whose term ends in 50 days.
    start(
        "deputy_rotation",
        {"term_end": _local(ctx, 50)[:10], "term_months": 12, "current_deputies": DEPUTIES[:2]},
    )
    # Policy documents: a programme awaiting the Chairman's approval, a Concept being drafted.
    programme = start("policy_document", {"document_type": "program"})
    if programme:
        _complete(
            ctx,
            programme,
            "Task_DraftDocument",
            "sec.john",
            {
                "document_title": "Programme of inter-ethnic harmony 2027-2029",
                "document_summary": "Priorities and measures for three years.",
                "draft_text": "1. Language. 2. Culture. 3. Youth.",
                "council_decision_method": "poll",
            },
        )
    start("policy_document", {"document_type": "concept"})
    # Appeals: one to register, one registered and waiting for an executor.
    start("appeal", {})
    registered = start("appeal", {})
    if registered:
        _complete(ctx, registered, "Task_RegisterAppeal", "sec.aliya", _registration(ctx, "APK-2026-0001"))
    return started
