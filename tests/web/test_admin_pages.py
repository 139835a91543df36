"""The rotation and working-day pages through the Flask test client."""

from __future__ import annotations

import os
from datetime import date
from typing import Any

from app.services.people.users import SYSTEM
from app.services.time import rotation
from tests.conftest import make_user


def test_the_head_of_the_secretariat_changes_the_rotation_term(browser: Any, seeded: dict, ctx: Any) -> None:
    make_user(ctx, "head", ["secretariat_head", "secretariat"])
    browser.login("head")
    assert 'href="/rotation"' in browser.get("/inbox").get_data(as_text=True)
    page = browser.get("/rotation")
    assert page.status_code == 200 and 'name="term_end"' in page.get_data(as_text=True)
    response = browser.post(
        "/rotation",
        {
            "term_end": "2026-06-30",
            "term_months": "12",
            "lead_days": "60",
            "deputy": ["P. Petrov", "S. Said"],
        },
    )
    assert response.status_code == 302 and response.headers["Location"] == "/rotation"
    term = rotation.get_rotation(ctx, SYSTEM)
    assert term["deputies"] == ["P. Petrov", "S. Said"]
    assert term["next_rotation_start"] == "2026-04-30T19:00:00+00:00"
    html = browser.get("/rotation").get_data(as_text=True)
    assert "P. Petrov, S. Said" in html and 'id="rotation-next"' in html
    refused = browser.post("/rotation", {"term_end": "2026-06-30", "lead_days": "-3", "deputy": [""]})
    assert refused.status_code == 422 and 'id="lead_days-error"' in refused.get_data(as_text=True)


def test_the_secretariat_reads_the_rotation_and_others_do_not_see_it(browser: Any, seeded: dict) -> None:
    browser.login("carol")  # secretariat
    html = browser.get("/rotation").get_data(as_text=True)
    assert 'name="term_end"' not in html  # no form to change it
    assert 'href="/calendar"' not in html
    browser.login("alice")
    assert 'href="/rotation"' not in browser.get("/inbox").get_data(as_text=True)
    assert browser.get("/rotation").status_code == 403


def test_an_administrator_adds_and_removes_a_working_day(browser: Any, seeded: dict, app: Any) -> None:
    calendar = lambda: app.extensions["services"].calendar  # noqa: E731
    browser.login("admin")
    assert 'href="/calendar"' in browser.get("/inbox").get_data(as_text=True)
    response = browser.post("/calendar", {"day": "2027-02-09", "kind": "holiday", "note": "decree"})
    assert response.status_code == 302
    html = browser.get("/calendar").get_data(as_text=True)
    assert "decree" in html
    assert not calendar().is_working_day(date(2027, 2, 9))
    assert browser.post("/calendar", {"day": "9 Feb", "kind": "holiday"}).status_code == 422
    assert browser.post("/calendar/2027-02-09/remove").status_code == 302
    assert "decree" not in browser.get("/calendar").get_data(as_text=True)
    assert calendar().is_working_day(date(2027, 2, 9))


def test_an_administrator_sees_the_sandbox_limits_and_layers(browser: Any, seeded: dict) -> None:
    browser.login("admin")
    assert 'href="/sandbox"' in browser.get("/inbox").get_data(as_text=True)
    page = browser.get("/sandbox")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    for setting in ("SCRIPT_CPU_SECONDS", "SCRIPT_MEMORY_MB", "SCRIPT_WALL_SECONDS", "SCRIPT_WORKERS"):
        assert f"<code>{setting}</code>" in html
    assert html.count('class="badge ok"') == (4 if os.geteuid() == 0 else 3)
    assert "Landlock" in html and "(ABI " in html
    browser.login("alice")
    assert 'href="/sandbox"' not in browser.get("/inbox").get_data(as_text=True)
    assert browser.get("/sandbox").status_code == 403


def test_the_settings_pages_name_people_by_their_names(browser: Any, seeded: dict, ctx: Any) -> None:
    from app.services.people import users

    users.create_user(
        ctx, SYSTEM, username="g.head", password="password123", display_name="Gulnar Seitova",
        groups=["secretariat_head", "secretariat", "admins"],
    )  # fmt: skip
    browser.login("g.head")
    term = {"term_end": "2026-06-30", "term_months": "12", "lead_days": "60", "deputy": [""]}
    browser.post("/rotation", term)
    browser.post("/calendar", {"day": "2027-02-09", "kind": "holiday", "note": "decree"})
    for path in ("/rotation", "/calendar"):
        html = browser.get(path).get_data(as_text=True)
        assert "Gulnar Seitova" in html and "g.head" not in html, path
