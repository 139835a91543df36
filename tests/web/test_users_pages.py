"""The users pages: an administrator creates a user, sets their groups and leads, a new password,
and deactivates them; refusals are shown at their fields; others get 403 and no link."""

from __future__ import annotations

from typing import Any

from app.services.people import users
from tests.web.conftest import Browser


def test_an_administrator_manages_a_user(browser: Browser, seeded: dict, ctx: Any) -> None:
    browser.login("alice")
    assert browser.get("/users").status_code == 403
    assert 'href="/users"' not in browser.get("/inbox").get_data(as_text=True)
    browser.login("admin")
    browser.post("/language", {"language": "en"})
    refused = browser.post("/users", {"username": "bad name!", "password": "short"})
    page = refused.get_data(as_text=True)
    assert refused.status_code == 422 and 'id="u-username-error"' in page and 'id="u-password-error"' in page
    assert 'value="bad name!"' in page  # what was typed stays, the password does not
    new = {"username": "dana", "password": "dana-password", "display_name": "Dana K", "group": "reviewers"}
    created = browser.post("/users", new)
    assert created.headers["Location"] == "/users/dana"
    browser.post("/users/dana/groups", {"group": ["reviewers", "secretariat"], "lead": ["secretariat"]})
    dana = users.actor_for(ctx, "dana")
    assert dana.groups == frozenset({"reviewers", "secretariat"})
    assert dana.lead_of == frozenset({"secretariat"})
    assert browser.post("/users/dana/password", {"password": "x"}).status_code == 422
    browser.post("/users/dana/password", {"password": "another-password"})
    browser.post("/users/dana/active", {"active": "0"})
    page = browser.get("/users/dana").get_data(as_text=True)
    assert "Cannot sign in." in page and "The user can no longer sign in." in page
    assert browser.login("dana", "another-password").status_code != 302
