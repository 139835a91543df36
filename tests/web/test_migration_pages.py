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


def test_every_instance_of_a_version_moved_from_the_instances_page(
    browser: Browser, seeded: dict, ctx: Any
) -> None:
    import time

    others = [
        instances.start_instance(ctx, SYSTEM, "approval", {"subject": f"S{n}", "divisor": 2})["id"]
        for n in range(3)
    ]
    deployments.deploy(ctx, SYSTEM, approval_files("added_after"))
    browser.login("admin")
    browser.post("/language", {"language": "en"})
    page = browser.get("/instances?model_id=approval&version=1").get_data(as_text=True)
    assert 'id="move-all"' in page
    assert 'id="move-all"' not in browser.get("/instances?model_id=approval").get_data(as_text=True)
    started = browser.post("/process-models/approval/versions/1/migrate", {"to": "2"})
    job_page = started.headers["Location"]
    deadline = time.monotonic() + 30
    while "Done:" not in (page := browser.get(job_page).get_data(as_text=True)):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert "Moved 4, refused 0, failed 0." in page  # the seeded one and the three others
    assert {instances.get_instance(ctx, SYSTEM, i)["version"] for i in [seeded["instance_id"], *others]} == {
        2
    }
    refused = browser.post("/process-models/approval/versions/1/migrate", {"to": "1"})
    assert "the versions are the same" in browser.get(refused.headers["Location"]).get_data(as_text=True)
