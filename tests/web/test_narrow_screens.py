"""Every page on a phone (390 x 844) in Kazakh: nothing wider than the screen, a short header;
the diagram's zoom buttons, full screen, and a wheel that scrolls the page. Screenshots go to
test-artifacts/screenshots/."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.web.live import CHROMIUM, LiveServer, every_page
from tests.web.test_browser import shot, sign_in, switch_language

sync_api = pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed")
PHONE = {"width": 390, "height": 844}


def new_page(chromium: Any, viewport: dict[str, int]) -> Any:
    context = chromium.new_context(viewport=viewport)
    context.set_default_timeout(10_000)
    return context.new_page()


def overflow(page: Any) -> int:
    """How far the page is wider than the screen, in CSS pixels."""
    return int(page.evaluate("document.documentElement.scrollWidth - window.innerWidth"))


def test_every_page_fits_a_phone(chromium: Any, live: LiveServer) -> None:
    page = new_page(chromium, PHONE)
    sign_in(page, live, "admin", "/inbox?scope=all")
    switch_language(page, "kk")
    pages = every_page(live)
    for name, path in pages.items():
        page.goto(live.url + path)
        assert overflow(page) <= 0, name
        header = page.locator("header.topbar").bounding_box()
        assert header and header["height"] <= 100, (name, header)
        shot(page, f"30-phone-{name}")
    page.context.close()


def test_the_diagram_zooms_with_its_buttons_not_with_the_page_scroll(chromium: Any, live: LiveServer) -> None:
    if not live.ids.get("poll_instance_id"):
        pytest.skip("bpmn/council_poll.bpmn did not deploy")
    page = new_page(chromium, {"width": 1366, "height": 768})
    sign_in(page, live, "admin", f"/instances/{live.ids['poll_instance_id']}")
    switch_language(page, "en")
    page.wait_for_selector("#diagram.ready")
    zoom = "() => document.querySelector('#diagram .viewport').transform.baseVal.consolidate().matrix.a"
    opened = page.evaluate(zoom)
    assert opened >= 0.79  # readable labels at the start, not a thumbnail
    before_scroll = page.evaluate("window.scrollY")
    page.mouse.move(600, page.locator("#diagram").bounding_box()["y"] + 100)
    page.mouse.wheel(0, 400)
    page.wait_for_timeout(300)
    assert page.evaluate(zoom) == opened  # the wheel did not zoom...
    assert page.evaluate("window.scrollY") > before_scroll  # ...it scrolled the page
    page.click("[data-zoom=in]")
    assert page.evaluate(zoom) > opened
    page.click("[data-zoom=out]")
    page.click("[data-zoom=out]")
    assert page.evaluate(zoom) < opened
    page.click("[data-zoom=full]")
    box = page.locator("#diagram").bounding_box()
    assert box and box["width"] > 1300
    shot(page, "31-diagram-full-screen")
    page.keyboard.press("Escape")
    page.context.close()
