"""The start page lists only what the user may start, in their language, with a line on each."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from app.errors import Forbidden, InvalidInput
from app.services.modelling import deployments
from app.services.people import users
from app.services.people.users import SYSTEM
from app.services.running import instances
from tests.conftest import make_user, read_fixture
from tests.web.conftest import Browser

ROOT = Path(__file__).resolve().parents[2]


def _deploy_appeal(ctx: Any) -> None:
    for group in ("secretariat_head", "secretariat_deputy_head"):
        make_user(ctx, f"{group}.one", [group])
    bundles = dict(deployments.bundles_in_folders(ROOT / "bpmn", ROOT / "forms"))
    deployments.deploy(ctx, SYSTEM, bundles["appeal"], process_id="appeal")


def test_only_the_processes_the_user_may_start(browser: Browser, seeded: dict, ctx: Any) -> None:
    _deploy_appeal(ctx)  # start_groups: secretariat
    deployments.deploy(ctx, SYSTEM, read_fixture("timer_intermediate.bpmn"))  # no human step: anyone
    make_user(ctx, "dana", ["council"])
    listed = {}
    for who in ("carol", "alice", "dana", "admin"):  # secretariat, reviewers, council, admins
        browser.login(who)
        browser.post("/language", {"language": "ru"})
        page = browser.get("/start").get_data(as_text=True)
        listed[who] = {
            pid
            for pid in ("appeal", "approval", "timer_intermediate")
            if f"/start/{pid}" in page or f'action="/start/{pid}"' in page
        }
        if who == "carol":
            assert "Рассмотрение обращения" in page  # the title in her language
            assert "Регистрация и рассмотрение обращений" in page  # and its one line
        browser.post("/logout")
    assert listed == {
        "carol": {"appeal", "timer_intermediate"},
        "alice": {"approval", "timer_intermediate"},  # approval has no start_groups: its lane's group
        "dana": {"timer_intermediate"},
        "admin": {"appeal", "approval", "timer_intermediate"},
    }
    dana = users.actor_for(ctx, "dana")
    with pytest.raises(Forbidden):
        instances.start_instance(ctx, dana, "appeal", {})
    browser.login("dana")
    assert browser.get("/start/appeal").status_code == 404


def test_start_groups_must_name_existing_groups(ctx: Any) -> None:
    files = read_fixture("approval.bpmn", "approval_review.schema.json", "approval_review.uischema.json")
    make_user(ctx, "rita", ["reviewers"])
    files["approval.bpmn"] = files["approval.bpmn"].replace(
        b'<spiffworkflow:property name="title_en" value="Approval"/>',
        b'<spiffworkflow:property name="title_en" value="Approval"/>'
        b'<spiffworkflow:property name="start_groups" value="reviewers, ghosts"/>',
    )
    with pytest.raises(InvalidInput) as refused:
        deployments.deploy(ctx, SYSTEM, files)
    assert [p["message"] for p in refused.value.details] == [
        "start_groups: 'ghosts' does not name an existing group"
    ]
