"""Fixtures for the web pages: people, the approval fixture deployed, and a signed-in test client."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from app.services.modelling import deployments
from app.services.people.users import SYSTEM
from app.services.running import instances
from tests.conftest import APPROVAL, START, make_user, read_fixture

PASSWORD = "password123"  # what tests.conftest.make_user gives everyone


def seed(ctx: Any, *, now: Any = START) -> dict[str, Any]:
    """alice and bob review, carol does not, admin administers; one approval instance waits."""
    make_user(ctx, "alice", ["reviewers"])
    make_user(ctx, "bob", ["reviewers"])
    make_user(ctx, "carol", ["secretariat"])
    make_user(ctx, "admin", ["admins", "analysts"])
    deployments.deploy(ctx, SYSTEM, read_fixture(*APPROVAL))
    started = instances.start_instance(
        ctx,
        SYSTEM,
        "approval",
        {"subject": "Budget 2026", "review_due": (now + timedelta(days=1)).isoformat(), "divisor": 4},
    )
    return {"instance_id": started["id"], "task_id": started["tasks"][0]["id"]}


@pytest.fixture
def seeded(ctx: Any) -> dict[str, Any]:
    return seed(ctx)


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "no CSRF token on the page"
    return found.group(1)


class Browser:
    """The Flask test client with sign-in and CSRF-carrying posts."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.token = ""

    def get(self, path: str, **kwargs: Any):
        response = self.client.get(path, **kwargs)
        if b'name="csrf_token"' in response.data:
            self.token = csrf_of(response.get_data(as_text=True))
        return response

    def post(self, path: str, data: dict[str, Any] | None = None, **kwargs: Any):
        if not self.token:
            self.get("/login")
        return self.client.post(path, data={"csrf_token": self.token, **(data or {})}, **kwargs)

    def login(self, username: str, password: str = PASSWORD):
        self.get("/login")
        response = self.post("/login", {"username": username, "password": password})
        if response.status_code == 302:
            self.get("/inbox")  # the session (and its CSRF token) is new after signing in
        return response


@pytest.fixture
def browser(client: Any) -> Browser:
    return Browser(client)


# --- a real server and headless Chromium, one of each per test module (tests/web/live.py) ---------


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from tests.web.live import serve  # live.py seeds with this module's `seed`

    yield from serve(tmp_path_factory.mktemp("live"))


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    from tests.web.live import CHROMIUM, CHROMIUM_FLAGS

    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


@pytest.fixture
def page(chromium: Any) -> Iterator[Any]:
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()
