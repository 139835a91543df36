"""The pages in headless Chromium against a real server: sign-in, inbox per user, claim, form errors,
completion, the instance diagram, language switch, a Council poll ballot. Screenshots of each page
go to test-artifacts/screenshots/."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.web.live import CHROMIUM, SCREENSHOTS, LiveServer

sync_api = pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed")
PASSWORD = "password123"


UNLABELLED = """() => [...document.querySelectorAll('input, select, textarea')]
  .filter(e => e.type !== 'hidden' && !e.closest('template'))
  .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label'))
  .map(e => e.name || e.id)"""


def assert_labelled(page: Any) -> None:
    assert page.evaluate(UNLABELLED) == []


def shot(page: Any, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def sign_in(page: Any, live: LiveServer, username: str, path: str = "/inbox") -> None:
    page.goto(live.url + path)
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("form[action='/login'] button[type=submit]")
    page.wait_for_url(re.compile(r"^https?://[^/]+/(inbox|tasks|instances|start)"))


def switch_language(page: Any, code: str) -> None:
    page.click(f"form.language button[value={code}]")
    page.wait_for_function(f"document.documentElement.lang === '{code}'")


def test_sign_in_with_the_keyboard_only(page: Any, live: LiveServer) -> None:
    page.goto(live.url + "/inbox")
    assert "/login" in page.url
    assert page.evaluate("document.documentElement.lang") == "kk"
    shot(page, "01-sign-in")
    page.fill("#username", "")  # autofocus is on the username field
    page.keyboard.type("alice")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.id")
    assert focused == "password"
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"^https?://[^/]+/inbox"))
    page.keyboard.press("Tab")  # the first stop is the skip link, shown when focused
    assert page.evaluate("document.activeElement.className") == "skip-link"
    assert page.is_visible(".skip-link")


def test_wrong_password(page: Any, live: LiveServer) -> None:
    page.goto(live.url + "/login")
    page.fill("#username", "alice")
    page.fill("#password", "not-the-password")
    page.click("form[action='/login'] button[type=submit]")
    assert page.is_visible("#login-error")
    shot(page, "02-sign-in-error")


def test_inbox_shows_the_right_tasks_per_user(page: Any, live: LiveServer) -> None:
    ids = live.ids
    sign_in(page, live, "carol", "/inbox?scope=available")
    assert page.locator(f"tr[data-task-id='{ids['task_id']}']").count() == 0
    assert page.locator(f"tr[data-task-id='{ids['late_task_id']}']").count() == 0
    page.click("form[action='/logout'] button")
    sign_in(page, live, "bob", "/inbox?scope=available")
    assert page.locator(f"tr[data-task-id='{ids['task_id']}']").count() == 1
    late = page.locator(f"tr[data-task-id='{ids['late_task_id']}']")
    assert "overdue" in (late.get_attribute("class") or "")
    assert "soon" in (page.locator(f"tr[data-task-id='{ids['task_id']}']").get_attribute("class") or "")
    assert_labelled(page)
    shot(page, "03-inbox-available")


def test_claim_submit_invalid_then_complete(page: Any, live: LiveServer) -> None:
    task_id = live.ids["task_id"]
    sign_in(page, live, "alice", "/inbox?scope=available")
    switch_language(page, "en")
    page.click(f"tr[data-task-id='{task_id}'] form[action$='/claim'] button")
    page.goto(live.url + "/inbox?scope=mine")
    row = page.locator(f"tr[data-task-id='{task_id}']")
    assert row.count() == 1 and "alice" in row.inner_text()
    assert page.inner_text("#open-task-count").strip().endswith(tuple("0123456789"))
    shot(page, "04-inbox-mine")

    row.locator("a").first.click()
    page.wait_for_url(re.compile(rf".*/tasks/{task_id}"))
    assert "Budget 2026" in page.inner_text(".instructions")  # {{ subject }} filled, **bold** rendered
    assert page.locator(".instructions strong").count() == 1
    assert_labelled(page)
    shot(page, "05-task")
    page.fill("#amount", "-3")
    page.click("form[action$='/tasks/" + task_id + "'] button[type=submit]")
    assert page.is_visible("#comment-error")
    assert page.is_visible("#amount-error")
    assert page.input_value("#amount") == "-3"
    assert page.get_attribute("#comment", "aria-invalid") == "true"
    shot(page, "06-task-errors")

    page.check("#approved")
    page.fill("#comment", "Looks right.")
    page.fill("#amount", "10")
    page.click("form[action$='/tasks/" + task_id + "'] button[type=submit]")
    page.wait_for_url(re.compile(r"^https?://[^/]+/inbox$"))
    assert page.is_visible(".flash-success")
    shot(page, "07-completed")


def test_instance_diagram_marks_the_active_task(page: Any, live: LiveServer) -> None:
    sign_in(page, live, "admin", f"/instances/{live.ids['late_instance_id']}")
    switch_language(page, "en")
    page.wait_for_selector("#diagram.ready")
    marked = page.locator(".djs-element.state-active[data-element-id='Task_Review']")
    assert marked.count() == 1
    assert page.locator(".djs-element.state-completed[data-element-id='StartEvent']").count() == 1
    assert page.is_visible("form[action$='/cancel'] button")
    assert page.locator(".timeline li").count() >= 1
    shot(page, "08-instance")


def test_language_switch_to_russian_and_kazakh(page: Any, live: LiveServer) -> None:
    sign_in(page, live, "bob")
    switch_language(page, "ru")
    assert page.inner_text("h1") == "Входящие задачи"
    assert page.inner_text("#task-total").split()[-1] in ("задача", "задачи", "задач")
    shot(page, "09-inbox-ru")
    switch_language(page, "kk")
    assert page.inner_text("h1") == "Кіріс тапсырмалар"
    page.goto(live.url + f"/tasks/{live.ids['late_task_id']}")
    assert page.inner_text("h1") == "Өтінішті қарау"  # the task's own Kazakh title
    shot(page, "10-task-kk")
    page.goto(live.url + "/start")
    shot(page, "11-start-kk")
    assert page.locator("form[action='/start/approval'] button").count() == 1


def test_real_diagram_of_a_council_poll(page: Any, live: LiveServer) -> None:
    if not live.ids.get("poll_instance_id"):
        pytest.skip(f"bpmn/council_poll.bpmn did not deploy: {live.ids.get('ballot_error')}")
    sign_in(page, live, "admin", f"/instances/{live.ids['poll_instance_id']}")
    switch_language(page, "en")
    page.wait_for_selector("#diagram.ready")
    assert page.locator(".djs-element.state-active").count() >= 1
    assert page.locator(".djs-element.state-completed").count() >= 1
    shot(page, "13-instance-council-poll")


def test_council_poll_ballot(page: Any, live: LiveServer) -> None:
    ballot = live.ids.get("ballot_id")
    if not ballot:
        pytest.skip(f"bpmn/council_poll.bpmn did not deploy: {live.ids.get('ballot_error')}")
    sign_in(page, live, "alice", f"/tasks/{ballot}")
    switch_language(page, "ru")
    page.click("input[name=vote][value=for] + label, label[for=vote-1]")
    page.fill("#comment", "Поддерживаю.")
    assert_labelled(page)
    shot(page, "12-ballot-ru")
    page.click(f"form[action$='/tasks/{ballot}'] button[type=submit]")
    page.wait_for_url(re.compile(r"^https?://[^/]+/inbox$"))
    assert page.is_visible(".flash-success")


def test_the_sandbox_page_in_kazakh(page: Any, live: LiveServer) -> None:
    sign_in(page, live, "admin")
    page.click("a[href='/sandbox']")
    page.wait_for_url(re.compile(r"^https?://[^/]+/sandbox"))
    if page.evaluate("document.documentElement.lang") != "kk":  # an earlier test chose another
        switch_language(page, "kk")
    assert page.inner_text("h1") == "Диаграмма коды"
    assert page.locator("#sandbox-limits tbody tr").count() == 6
    assert page.locator("#sandbox-layers .badge.ok").count() >= 3
    assert "Landlock" in page.inner_text("#sandbox-layers")
    shot(page, "20-sandbox-kk")
