"""axe-core (from the npm registry, node_modules/) on every page, in Kazakh, at desktop and phone
widths: no serious or critical violation. One task is completed with the keyboard alone."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from tests.web.live import CHROMIUM, ROOT, LiveServer, every_page
from tests.web.test_browser import PASSWORD, shot, sign_in, switch_language

sync_api = pytest.importorskip("playwright.sync_api")
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
pytestmark = [
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed"),
    pytest.mark.skipif(not AXE.exists(), reason="axe-core is not installed (make vendor)"),
]
WIDTHS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}


def serious_violations(page: Any) -> list[dict[str, Any]]:
    page.evaluate(AXE.read_text())  # evaluated through the driver: the pages' CSP stays as it is
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


@pytest.mark.parametrize("width", list(WIDTHS))
def test_no_serious_violations_on_any_page(chromium: Any, live: LiveServer, width: str) -> None:
    context = chromium.new_context(viewport=WIDTHS[width])
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.goto(live.url + "/login")
    assert serious_violations(page) == [], "login"
    sign_in(page, live, "admin", "/inbox?scope=all")
    switch_language(page, "kk")
    pages = every_page(live)
    found = {}
    for name, path in pages.items():
        page.goto(live.url + path)
        if page.locator("#diagram").count():
            page.wait_for_selector("#diagram.ready, #diagram.failed")
        violations = serious_violations(page)
        if violations:
            found[name] = violations
    context.close()
    assert found == {}, json.dumps(found, ensure_ascii=False, indent=1)


def test_a_task_completed_with_the_keyboard_alone(chromium: Any, live: LiveServer) -> None:
    context = chromium.new_context(viewport=WIDTHS["desktop"])
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.goto(live.url + "/login")
    page.keyboard.press("Tab")  # the skip link
    page.keyboard.press("Tab")
    for _ in range(12):  # to the user name field, through the language buttons
        if page.evaluate("document.activeElement.id") == "username":
            break
        page.keyboard.press("Tab")
    page.keyboard.type("bob")
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*/inbox"))
    page.goto(live.url + f"/tasks/{live.ids['late_task_id']}")
    page.focus("body")
    for _ in range(60):  # tab to the "approved" box
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "approved":
            break
    page.keyboard.press("Space")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "comment"
    page.keyboard.type("Checked with the keyboard.")
    for _ in range(10):  # on to the submit button
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.type") == "submit":
            break
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*/inbox"))
    assert page.is_visible(".flash-success")
    shot(page, "40-completed-with-the-keyboard")
    context.close()
