"""Integers beyond what the databases store, and limits beyond the documented maximum, are
refused before any handler runs: never a server error, never a silent cap."""

from __future__ import annotations

import pytest

from tests.api.conftest import expect_error

HUGE = str(2**63)
BEYOND_IDS = str(2**31)


@pytest.mark.parametrize(
    "path",
    [
        f"/process-instances/{HUGE}",
        f"/process-instances/{HUGE}/history",
        f"/process-instances/{'9' * 40}",
        f"/process-instances/{BEYOND_IDS}",  # ids are 32-bit columns on PostgreSQL
    ],
)
def test_an_id_beyond_64_bits_is_not_found(api, people, path):
    expect_error(api.get(path, user="admin"), 404, "not_found")


@pytest.mark.parametrize("method", ["POST"])
def test_actions_on_an_id_beyond_64_bits_are_not_found(api, people, method):
    for path in (f"/process-instances/{HUGE}/cancel", f"/timers/{HUGE}/fire"):
        expect_error(api.request(method, path, user="admin"), 404, "not_found")


@pytest.mark.parametrize(
    ("query", "field"),
    [
        (f"/process-instances?offset={HUGE}", "offset"),
        ("/process-instances?limit=1001", "limit"),
        (f"/tasks?scope=all&instance={BEYOND_IDS}", "instance"),
        ("/timers?limit=100000", "limit"),
        (f"/process-models/approval?version={BEYOND_IDS}", "version"),
    ],
)
def test_query_integers_out_of_bounds_are_refused_naming_the_parameter(api, people, approval, query, field):
    body = expect_error(api.get(query, user="admin"), 400, "bad_request")
    assert body["details"][0]["field"] == field


def test_the_largest_id_is_simply_unknown(api, people):
    expect_error(api.get(f"/process-instances/{2**31 - 1}", user="admin"), 404, "not_found")


def test_a_method_the_address_does_not_take_is_405_with_allow(api, people, client):
    response = api.request("DELETE", "/process-instances", user="admin", check=False)
    assert response.status_code == 405
    assert set(response.headers["Allow"].split(", ")) >= {"GET", "POST"}
    assert response.get_json()["error"] == "method_not_allowed"
    page = client.delete("/inbox")
    assert page.status_code == 405 and "GET" in page.headers["Allow"]
