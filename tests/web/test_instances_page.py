"""The instances page: filters served by the search, the business key shown, pages of 50, and
each user seeing only the instances they may read."""

from __future__ import annotations

from typing import Any

from app.services.people.users import SYSTEM
from app.services.running import instances
from tests.services.test_instance_search import _deploy_keyed
from tests.web.conftest import Browser


def test_find_instances_by_filters_and_business_key(browser: Browser, seeded: dict, ctx: Any) -> None:
    _deploy_keyed(ctx)
    keyed = [
        instances.start_instance(ctx, SYSTEM, "approval", {"subject": f"REG-{n}", "divisor": 4})["id"]
        for n in range(55)
    ]
    instances.cancel_instance(ctx, SYSTEM, keyed[3])
    browser.login("admin")
    browser.post("/language", {"language": "en"})
    page = browser.get("/instances").get_data(as_text=True)
    assert 'href="/instances"' in page and page.count('href="/instances/') >= 50 and 'rel="next"' in page
    page = browser.get("/instances?business_key=REG-7").get_data(as_text=True)
    assert f'href="/instances/{keyed[7]}"' in page and page.count('href="/instances/') == 1
    page = browser.get("/instances?field=subject&value=REG-9").get_data(as_text=True)
    assert f'href="/instances/{keyed[9]}"' in page
    page = browser.get("/instances?status=cancelled").get_data(as_text=True)
    assert f'href="/instances/{keyed[3]}"' in page and f'href="/instances/{keyed[4]}"' not in page
    refused = browser.get("/instances?started_from=yesterday&version=x")
    assert refused.status_code == 422 and 'id="i-started_from-error"' in refused.get_data(as_text=True)
    page = browser.get(f"/instances/{keyed[7]}").get_data(as_text=True)
    assert '<span id="business-key">REG-7</span>' in page
    browser.login("carol")  # secretariat: no lane in the approval process
    page = browser.get("/instances").get_data(as_text=True)
    assert f'href="/instances/{keyed[7]}"' not in page


def test_the_business_key_names_the_case_on_the_pages(browser: Browser, seeded: dict, ctx: Any) -> None:
    _deploy_keyed(ctx)
    view = instances.start_instance(ctx, SYSTEM, "approval", {"subject": "REG-42", "divisor": 4})
    browser.login("alice")
    browser.post("/language", {"language": "en"})
    assert f"#{view['id']} · REG-42" in browser.get("/inbox?scope=available").get_data(as_text=True)
    assert "REG-42" in browser.get(f"/tasks/{view['tasks'][0]['id']}").get_data(as_text=True)
