"""Nothing typed is lost: a task completed, claimed or withdrawn meanwhile, a sign-out in another
tab, an expired page, and Back after sending: each answers what happened and keeps the values."""

from __future__ import annotations

from typing import Any

from app.services.people import users
from app.services.people.users import SYSTEM
from app.services.running import instances
from app.services.work import tasks
from tests.web.conftest import Browser


def test_sending_a_task_someone_else_completed_keeps_what_was_typed(
    browser: Browser, seeded: dict, ctx: Any
) -> None:
    task_id = seeded["task_id"]
    browser.login("alice")
    browser.post("/language", {"language": "en"})
    assert browser.get(f"/tasks/{task_id}").status_code == 200
    # bob completes it in the meantime
    tasks.complete_task(
        ctx, users.actor_for(ctx, "bob"), task_id, {"approved": False, "comment": "No budget"}
    )
    response = browser.post(f"/tasks/{task_id}", {"approved": "on", "comment": "My long considered opinion"})
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "bob completed this task on" in page and "already completed" in page
    assert "My long considered opinion" in page  # what alice typed, to copy
    assert f'data-clear-draft="/tasks/{task_id}"' in page
    assert f'href="/instances/{seeded["instance_id"]}"' in page
    assert "No budget" not in page  # what bob sent is his


def test_back_after_sending_shows_the_task_read_only_with_what_was_sent(
    browser: Browser, seeded: dict, ctx: Any
) -> None:
    task_id = seeded["task_id"]
    browser.login("alice")
    browser.post("/language", {"language": "en"})
    browser.get(f"/tasks/{task_id}")
    assert browser.post(f"/tasks/{task_id}", {"approved": "on", "comment": "Fine by me"}).status_code == 302
    inbox = browser.get("/inbox").get_data(as_text=True)
    assert f'data-clear-draft="/tasks/{task_id}"' in inbox  # the kept draft goes once it is sent
    back = browser.get(f"/tasks/{task_id}")
    assert back.status_code == 200  # never a 404 for a task seen a moment ago
    page = back.get_data(as_text=True)
    assert "You completed this task on" in page and "What you sent" in page and "Fine by me" in page
    browser.post("/logout")
    browser.login("carol")  # takes no part in the process
    assert browser.get(f"/tasks/{task_id}").status_code == 404


def test_a_task_claimed_by_someone_else_says_who(browser: Browser, seeded: dict, ctx: Any) -> None:
    task_id = seeded["task_id"]
    browser.login("alice")
    browser.post("/language", {"language": "en"})
    browser.get(f"/tasks/{task_id}")
    tasks.claim_task(ctx, users.actor_for(ctx, "bob"), task_id)
    response = browser.post(f"/tasks/{task_id}", {"approved": "on", "comment": "Mine"})
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "bob took this task on" in page and "Mine" in page


def test_a_cancelled_case_says_it_is_closed(browser: Browser, seeded: dict, ctx: Any) -> None:
    task_id = seeded["task_id"]
    browser.login("alice")
    browser.post("/language", {"language": "ru"})
    browser.get(f"/tasks/{task_id}")
    instances.cancel_instance(ctx, SYSTEM, seeded["instance_id"])
    response = browser.post(f"/tasks/{task_id}", {"approved": "on", "comment": "Поздно"})
    assert response.status_code == 409
    assert "Поздно" in response.get_data(as_text=True)


def test_signed_out_in_another_tab_leads_back_to_the_form(browser: Browser, seeded: dict) -> None:
    task_id = seeded["task_id"]
    browser.login("alice")
    browser.get(f"/tasks/{task_id}")
    stale = browser.token
    browser.client.post("/logout", data={"csrf_token": stale})  # the other tab
    response = browser.client.post(f"/tasks/{task_id}", data={"csrf_token": stale, "comment": "typed"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/login?next=/tasks/{task_id}")
    login = browser.get("/login?next=/tasks/" + task_id).get_data(as_text=True)
    assert "signed out" in login or "жүйеден шықтыңыз" in login or "вышли" in login


def test_an_expired_page_returns_to_the_form(browser: Browser, seeded: dict) -> None:
    task_id = seeded["task_id"]
    browser.login("alice")
    browser.get(f"/tasks/{task_id}")
    response = browser.client.post(f"/tasks/{task_id}", data={"csrf_token": "stale", "comment": "typed"})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/tasks/{task_id}")


def test_a_ballot_sent_after_the_poll_closed_early_says_how_it_was_decided(
    browser: Browser, seeded: dict, ctx: Any
) -> None:
    from pathlib import Path

    from app.services.modelling import deployments
    from tests.conftest import make_user

    root = Path(__file__).resolve().parents[2]
    make_user(ctx, "chair", ["chairman"])
    make_user(ctx, "dave", ["council"])
    for name in ("secretariat_head", "secretariat_deputy_head", "expert_council_secretary"):
        make_user(ctx, f"{name}.one", [name])
    users.set_group_members(ctx, SYSTEM, "council", ["alice", "bob", "dave"])
    bundles = dict(deployments.bundles_in_folders(root / "bpmn", root / "forms"))
    deployments.deploy(ctx, SYSTEM, bundles["council_poll"], process_id="council_poll")
    carol = users.actor_for(ctx, "carol")
    started = instances.start_instance(ctx, carol, "council_poll", {})
    prepare = started["tasks"][0]["id"]
    deadline = "2099-12-29T18:30:00+05:00"
    tasks.complete_task(
        ctx,
        carol,
        prepare,
        {
            "poll_question": "Adopt?",
            "poll_deadline": deadline,
            "convened_by": "chairman",
            "convening_reference": "I-1",
        },
    )
    ballots = {
        who: next(
            t["id"]
            for scope in ("mine", "available")
            for t in tasks.list_tasks(ctx, users.actor_for(ctx, who), scope=scope)
            if t["name"] == "Task_CastBallot"
        )
        for who in ("alice", "bob", "dave")
    }
    browser.login("dave")
    browser.post("/language", {"language": "en"})
    assert browser.get(f"/tasks/{ballots['dave']}").status_code == 200
    for who in ("alice", "bob"):
        tasks.complete_task(ctx, users.actor_for(ctx, who), ballots[who], {"vote": "for"})
    response = browser.post(f"/tasks/{ballots['dave']}", {"vote": "against", "comment": "Too hasty"})
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    # The poll closed early with two votes of three, which ended this (stand-alone) case.
    assert "This case is closed" in page and "Too hasty" in page
    assert "adopted. For: 2 of 3 members (2 needed)." in page
