"""Moving an instance from its page: the preview says whether it can move and why not, the move
keeps the open task, and the timeline shows the versions."""

from __future__ import annotations

from typing import Any

from app.services.modelling import deployments
from app.services.people.users import SYSTEM
from app.services.running import instances
from tests.services.test_migration import approval_files
from tests.web.conftest import Browser


def test_preview_then_move_from_the_instance_page(browser: Browser, seeded: dict, ctx: Any) -> None:
    instance_id = seeded["instance_id"]  # the approval fixture, waiting at its review
    deployments.deploy(ctx, SYSTEM, approval_files("added_after"))
    deployments.deploy(ctx, SYSTEM, approval_files("review_removed"))
    browser.login("admin")
    browser.post("/language", {"language": "en"})
    assert 'id="move-version"' in browser.get(f"/instances/{instance_id}").get_data(as_text=True)
    page = browser.get(f"/instances/{instance_id}/migration?to=3").get_data(as_text=True)
    assert "It cannot move:" in page and "Task_Review" in page and "Move it to version" not in page
    page = browser.get(f"/instances/{instance_id}/migration?to=2").get_data(as_text=True)
    assert "It can move." in page and "Script_Stamp" in page
    browser.post(f"/instances/{instance_id}/migrate", {"to": "2"})
    page = browser.get(f"/instances/{instance_id}").get_data(as_text=True)
    assert "The instance is moved to version 2." in page and "version 1 → 2" in page
    assert instances.get_instance(ctx, SYSTEM, instance_id)["tasks"][0]["id"] == seeded["task_id"]
    browser.login("alice")
    assert browser.get(f"/instances/{instance_id}/migration?to=2").status_code == 403
