"""Forms tell the truth before the server does (headless Chromium): required marks that follow
the schema's conditions, length counters that never cut, pickers without ISO hints, four-digit
years. Screenshots go to test-artifacts/screenshots/."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.web.live import CHROMIUM, LiveServer
from tests.web.test_browser import shot, sign_in, switch_language

sync_api = pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed")


def is_marked(on: Any, name: str) -> bool:
    mark = on.locator(f"[data-field='{name}'] .required")
    return mark.count() == 1 and mark.is_visible()


def test_conditional_required_fields_and_the_length_counter(page: Any, live: LiveServer) -> None:
    task_id = live.ids["appeal_register_task"]
    sign_in(page, live, "registrar", f"/tasks/{task_id}")
    switch_language(page, "kk")
    # Not anonymous (the box is unticked): the applicant's details are required, and marked so.
    for name in ("applicant_name", "applicant_address", "applicant_id_number", "registration_notice"):
        assert is_marked(page, name), name
    assert page.get_attribute("#applicant_name", "aria-required") == "true"
    assert is_marked(page, "substance") and not is_marked(page, "applicant_email")
    page.check("#anonymous")
    for name in ("applicant_name", "applicant_address", "applicant_id_number"):
        assert not is_marked(page, name), name
    assert page.get_attribute("#applicant_name", "aria-required") is None
    page.uncheck("#anonymous")
    assert is_marked(page, "applicant_name")

    # A text over the limit is kept whole, counted, and flagged: never cut.
    text = "ә" * 20_001
    page.fill("#substance", text)
    assert len(page.input_value("#substance")) == 20_001
    counter = page.locator("[data-counter-for='substance']")
    assert counter.inner_text().replace("\u202f", "").startswith("20001 / 20000")
    assert "over" in (counter.get_attribute("class") or "")
    assert page.evaluate("document.getElementById('substance').validity.customError") is True
    page.fill("#substance", "Тіл туралы өтініш.")
    assert page.evaluate("document.getElementById('substance').validity.customError") is False

    # Pickers, and no ISO example beside them.
    assert page.get_attribute("#received_at", "type") == "datetime-local"
    help_text = page.inner_text("[data-field='received_at'] .help")
    assert "T1" not in help_text and "+05:00" not in help_text
    shot(page, "20-appeal-registration-kk")


def test_years_have_four_digits_in_every_language(page: Any, live: LiveServer) -> None:
    sign_in(page, live, "alice", "/inbox?scope=available")
    for code in ("kk", "ru", "en"):
        switch_language(page, code)
        page.goto(live.url + f"/tasks/{live.ids['task_id']}")
        created = page.locator("dl.meta dd").nth(1).inner_text()
        assert any(str(year) in created for year in range(2025, 2031)), (code, created)


def test_signed_out_in_another_tab_then_back_to_the_filled_form(page: Any, live: LiveServer) -> None:
    task_id = live.ids["task_id"]
    sign_in(page, live, "bob", f"/tasks/{task_id}")
    switch_language(page, "en")
    page.fill("#comment", "A long answer I do not want to type twice.")
    page.fill("#amount", "7")
    # Another tab signs out: the same cookie jar posts the sign-out form. (Not a second page:
    # Chromium's new-tab call can wait forever on a loaded machine, and it has no timeout.)
    token = page.get_attribute("form[action='/logout'] input[name=csrf_token]", "value")
    signed_out = page.context.request.post(live.url + "/logout", form={"csrf_token": token}, max_redirects=0)
    assert signed_out.status == 302
    page.click(f"form[action$='/tasks/{task_id}'] button[type=submit]")
    page.wait_for_url(lambda url: "/login" in url)
    assert "signed out" in page.inner_text(".flashes")
    shot(page, "21-signed-out-keeps-the-form")
    page.fill("#username", "bob")
    page.fill("#password", "password123")
    page.click("form[action='/login'] button[type=submit]")
    page.wait_for_url(lambda url: url.endswith(f"/tasks/{task_id}"))
    assert page.input_value("#comment") == "A long answer I do not want to type twice."
    assert page.input_value("#amount") == "7"
    assert page.is_visible("#draft-restored")
    shot(page, "22-form-restored")


@pytest.mark.parametrize(
    ("code", "title", "instruction"),
    [
        ("kk", "Өтінішті тіркеу", "Түскен уақытын (Астана уақытымен)"),
        ("ru", "Зарегистрировать обращение", "Укажите время поступления"),
        ("en", "Register the appeal", "Enter the time of receipt"),
    ],
)
def test_the_appeal_task_in_each_language(
    page: Any,
    live: LiveServer,
    code: str,
    title: str,
    instruction: str,
) -> None:
    task_id = live.ids["appeal_register_task"]
    sign_in(page, live, "registrar", "/inbox")
    switch_language(page, code)
    assert title in page.inner_text("main")  # the inbox row
    page.goto(live.url + f"/tasks/{task_id}")
    assert instruction in page.inner_text(".instructions")
    assert page.locator("h1").inner_text().strip() != ""
    shot(page, f"23-appeal-task-{code}")
