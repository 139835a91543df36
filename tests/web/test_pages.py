"""The web pages through the Flask test client: auth redirects, CSRF, inbox, task forms, instances."""

from __future__ import annotations

from typing import Any

from app.services.modelling import deployments
from app.services.people import users
from app.services.people.users import SYSTEM
from app.services.running import instances
from app.services.work import tasks
from tests.conftest import FIXTURES


def test_pages_redirect_to_sign_in(client: Any) -> None:
    for path in ("/", "/inbox", "/start", "/instances/1", "/tasks/x"):
        response = client.get(path)
        assert response.status_code == 302
        assert "/login" in response.headers["Location"]
    assert "next=/inbox" in client.get("/inbox").headers["Location"]


def test_sign_in_sets_a_protected_session_cookie(browser: Any, seeded: dict) -> None:
    response = browser.login("alice")
    assert response.status_code == 302 and response.headers["Location"] == "/inbox"
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_the_api_neither_reads_nor_sets_the_page_session(browser: Any, seeded: dict, ctx: Any) -> None:
    """A signed-in browser's session cookie does not authenticate API calls, and API answers set
    no cookie (the API opens no session)."""
    browser.login("alice")
    assert browser.client.get("/inbox").status_code == 200  # the page session works
    me = browser.client.get("/api/v1/me")
    assert me.status_code == 401 and "Set-Cookie" not in me.headers
    token = users.issue_token(ctx, users.actor_for(ctx, "alice"))
    me = browser.client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200 and "Set-Cookie" not in me.headers
    assert browser.client.get("/healthz").headers.get("Set-Cookie") is None


def test_wrong_password_is_refused_in_kazakh_by_default(browser: Any, seeded: dict) -> None:
    response = browser.login("alice", "wrong-password")
    assert response.status_code == 401
    page = response.get_data(as_text=True)
    assert 'lang="kk"' in page
    assert "Wrong username or password." not in page  # translated


def test_posts_without_the_csrf_token_are_rejected(browser: Any, seeded: dict) -> None:
    browser.login("alice")
    response = browser.client.post(f"/tasks/{seeded['task_id']}/claim", data={})
    assert response.status_code == 400
    response = browser.client.post(f"/tasks/{seeded['task_id']}/claim", data={"csrf_token": "forged"})
    assert response.status_code == 400
    login = browser.client.post("/login", data={"username": "alice", "password": "password123"})
    assert login.status_code == 400


def test_sign_out(browser: Any, seeded: dict) -> None:
    browser.login("alice")
    browser.get("/inbox")
    assert browser.post("/logout").status_code == 302
    assert browser.client.get("/inbox").status_code == 302


def test_inbox_claim_and_unclaim(browser: Any, seeded: dict, ctx: Any) -> None:
    browser.login("alice")
    page = browser.get("/inbox?scope=available").get_data(as_text=True)
    assert seeded["task_id"] in page
    response = browser.post(f"/tasks/{seeded['task_id']}/claim", {"next": "/inbox?scope=mine"})
    assert response.headers["Location"] == "/inbox?scope=mine"
    alice = users.actor_for(ctx, "alice")
    assert [t["id"] for t in tasks.list_tasks(ctx, alice, scope="mine")] == [seeded["task_id"]]
    page = browser.get("/inbox?scope=mine").get_data(as_text=True)
    assert seeded["task_id"] in page and 'id="open-task-count"' in page
    browser.post(f"/tasks/{seeded['task_id']}/unclaim")
    assert tasks.list_tasks(ctx, alice, scope="mine") == []


def test_inbox_hides_other_groups_tasks(browser: Any, seeded: dict) -> None:
    browser.login("carol")
    assert seeded["task_id"] not in browser.get("/inbox?scope=available").get_data(as_text=True)
    assert seeded["task_id"] not in browser.get("/inbox?scope=all").get_data(as_text=True)


def test_form_errors_are_shown_next_to_fields_with_values_kept(browser: Any, seeded: dict) -> None:
    browser.login("alice")
    browser.post("/language", {"language": "en"})
    browser.get(f"/tasks/{seeded['task_id']}")
    response = browser.post(f"/tasks/{seeded['task_id']}", {"amount": "-5", "divisor": "abc"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'id="comment-error"' in page and "This field is required." in page
    assert 'id="amount-error"' in page and "at least 0" in page
    assert 'id="divisor-error"' in page and "whole number" in page
    assert 'value="abc"' in page and 'value="-5"' in page


def test_completing_returns_to_the_inbox(browser: Any, seeded: dict, ctx: Any) -> None:
    browser.login("alice")
    browser.get(f"/tasks/{seeded['task_id']}")
    response = browser.post(
        f"/tasks/{seeded['task_id']}", {"approved": "on", "comment": "Fine", "divisor": "4"}
    )
    assert response.status_code == 302 and response.headers["Location"] == "/inbox"
    admin = users.actor_for(ctx, "admin")
    assert tasks.list_tasks(ctx, admin, scope="all") == []


def test_instance_page_has_the_diagram_and_timeline(browser: Any, seeded: dict) -> None:
    browser.login("admin")
    page = browser.get(f"/instances/{seeded['instance_id']}").get_data(as_text=True)
    assert 'id="diagram"' in page and "Task_Review" in page and "bpmn-navigated-viewer" in page
    xml = browser.get(f"/instances/{seeded['instance_id']}/diagram.bpmn")
    assert xml.status_code == 200 and b"Task_Review" in xml.data


def test_start_page_starts_a_process(browser: Any, seeded: dict) -> None:
    browser.login("alice")
    assert "approval" in browser.get("/start").get_data(as_text=True)
    response = browser.post("/start/approval")
    assert response.status_code == 302


def test_saved_filters_are_shared_with_a_group(browser: Any, seeded: dict) -> None:
    browser.login("alice")
    browser.get("/inbox")
    browser.post(
        "/filters", {"name": "Due soon", "due": "soon", "scope": "available", "shared_group": "reviewers"}
    )
    browser.post("/logout")
    browser.login("bob")
    assert "Due soon" in browser.get("/inbox").get_data(as_text=True)
    browser.post("/logout")
    browser.login("carol")
    assert "Due soon" not in browser.get("/inbox").get_data(as_text=True)


def test_unknown_pages_are_translated_but_the_api_keeps_json(browser: Any, seeded: dict) -> None:
    browser.login("alice")
    browser.post("/language", {"language": "ru"})
    response = browser.get("/no-such-page")
    assert response.status_code == 404 and "Такой страницы нет." in response.get_data(as_text=True)
    assert "Такой страницы нет." not in browser.get("/api/v1/no-such-thing").get_data(as_text=True)


def test_language_chosen_before_signing_in_is_kept(browser: Any, seeded: dict, ctx: Any) -> None:
    browser.get("/login")
    browser.post("/language", {"language": "en", "next": "/login"})
    assert 'lang="en"' in browser.get("/login").get_data(as_text=True)
    browser.login("bob")
    assert users.actor_for(ctx, "bob").language == "en"


def test_an_instance_id_beyond_64_bits_is_a_page_not_found(browser, seeded):
    browser.login("admin")
    assert browser.get(f"/instances/{2**63}").status_code == 404
    assert browser.get(f"/instances/{2**31}").status_code == 404
    assert browser.get(f"/instances/{2**31 - 1}").status_code == 404


def test_the_instance_page_shows_what_its_scripts_printed(browser: Any, seeded: dict, ctx: Any) -> None:
    files = {"two_pools.bpmn": (FIXTURES / "elsewhere" / "camunda_two_pools.bpmn").read_bytes()}
    deployments.deploy(ctx, SYSTEM, files)
    started = instances.start_instance(ctx, users.actor_for(ctx, "carol"), "Collaboration_0x1", {})
    browser.login("carol")
    page = browser.get(f"/instances/{started['id']}").get_data(as_text=True)
    assert 'id="log-h"' not in page  # nothing printed yet
    tasks.complete_task(ctx, users.actor_for(ctx, "carol"), started["tasks"][0]["id"], {})
    page = browser.get(f"/instances/{started['id']}").get_data(as_text=True)
    assert 'id="log-h"' in page and "<pre>shipped: True\n</pre>" in page and "Ship" in page
