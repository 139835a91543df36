"""The incidents page: failed instances listed, a variable corrected on the instance's page, and
the selected ones retried from the list, each reported."""

from __future__ import annotations

from typing import Any

from app.services.people import users
from app.services.people.users import SYSTEM
from app.services.running import instances
from app.services.work import tasks
from tests.web.conftest import Browser


def _failing(ctx: Any) -> int:
    view = instances.start_instance(ctx, SYSTEM, "approval", {"subject": "Broken", "divisor": 0})
    alice = users.actor_for(ctx, "alice")
    tasks.complete_task(ctx, alice, view["tasks"][0]["id"], {"approved": True, "comment": "ok"})
    return view["id"]


def test_an_incident_corrected_and_retried_from_the_pages(browser: Browser, seeded: dict, ctx: Any) -> None:
    broken, hopeless = _failing(ctx), _failing(ctx)
    browser.login("alice")
    assert browser.get("/incidents").status_code == 403
    assert 'href="/incidents"' not in browser.get("/inbox").get_data(as_text=True)
    browser.login("admin")
    browser.post("/language", {"language": "en"})
    page = browser.get("/incidents").get_data(as_text=True)
    assert 'href="/incidents"' in page and f'value="{broken}"' in page and f'value="{hopeless}"' in page
    assert "Record the outcome" in page and "division" in page  # the failed step by its name, and why
    assert 'id="edit-data"' in browser.get(f"/instances/{broken}").get_data(as_text=True)
    refused = browser.post(f"/instances/{broken}/data", {"changes": "divisor = 4"})
    assert "JSON object" in browser.get(refused.headers["Location"]).get_data(as_text=True)
    browser.post(f"/instances/{broken}/data", {"changes": '{"divisor": 4}'})
    response = browser.post("/incidents", {"instance": [str(broken), str(hopeless)], "action": "retry"})
    page = browser.get(response.headers["Location"]).get_data(as_text=True)
    assert f"Instance #{broken}: done, now complete." in page
    assert f"Instance #{hopeless}: the step failed again" in page
    assert f'value="{broken}"' not in page and f'value="{hopeless}"' in page
    assert instances.get_instance(ctx, SYSTEM, broken)["data"]["ratio"] == 25
