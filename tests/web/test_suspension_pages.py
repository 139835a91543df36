"""Suspend and resume from the case page: the buttons, the notice, and what a clerk who sends a
task of a suspended case is told (with what she typed kept)."""

from __future__ import annotations

from typing import Any

from app.services.people import users
from app.services.work import tasks
from tests.web.conftest import Browser


def test_a_task_sent_to_a_suspended_case_says_so_and_keeps_what_was_typed(
    browser: Browser, seeded: dict, ctx: Any
) -> None:
    instance_id, task_id = seeded["instance_id"], seeded["task_id"]
    tasks.claim_task(ctx, users.actor_for(ctx, "alice"), task_id)
    browser.login("admin")
    browser.post("/language", {"language": "en"})
    page = browser.get(f"/instances/{instance_id}").get_data(as_text=True)
    assert f'action="/instances/{instance_id}/suspend"' in page
    browser.post(f"/instances/{instance_id}/suspend")
    page = browser.get(f"/instances/{instance_id}").get_data(as_text=True)
    assert 'id="suspended-notice"' in page and f'action="/instances/{instance_id}/resume"' in page
    assert ">suspended</span>" in page

    browser.login("alice")
    browser.post("/language", {"language": "en"})
    response = browser.post(f"/tasks/{task_id}", {"approved": "on", "comment": "Typed before the pause"})
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "An administrator suspended this case on" in page
    assert "Typed before the pause" in page
    browser.post(f"/tasks/{task_id}/unclaim")
    browser.login("bob")
    browser.post("/language", {"language": "ru"})
    browser.post(f"/tasks/{task_id}/claim")
    inbox = browser.get("/inbox").get_data(as_text=True)
    assert "Это дело приостановлено" in inbox  # the claim is refused, and why

    browser.login("admin")
    browser.post(f"/instances/{instance_id}/resume")
    assert tasks.claim_task(ctx, users.actor_for(ctx, "bob"), task_id)["assignee"] == "bob"
