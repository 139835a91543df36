"""The rotation terms and the working-day transfers through the REST API."""

from __future__ import annotations

from datetime import date

from app.services.modelling import deployments
from app.services.people.users import SYSTEM
from tests.api.conftest import expect_error
from tests.conftest import make_user, read_fixture

MONDAY = date(2027, 2, 8)


def test_rotation_is_read_by_the_secretariat_and_changed_by_its_head(api, ctx, people):
    make_user(ctx, "head", ["secretariat_head"])
    make_user(ctx, "clerk", ["secretariat"])
    expect_error(api.get("/rotation", user="rita"), 403, "forbidden")
    expect_error(api.get("/rotation"), 401, "unauthorized")
    body = {"term_end": "2026-06-30", "term_months": 12, "deputies": ["P. Petrov"], "lead_days": 45}
    changed = api.put("/rotation", user="head", json=body)
    assert changed.status_code == 200, changed.get_data(as_text=True)
    assert changed.get_json()["next_rotation_start"] == "2026-05-15T19:00:00+00:00"
    assert api.get("/rotation", user="clerk").get_json() == changed.get_json()
    expect_error(api.put("/rotation", user="clerk", json={"term_months": 6}), 403, "forbidden")
    problem = expect_error(api.put("/rotation", user="head", json={"term_end": "June"}), 422, "invalid_input")
    assert problem["details"][0]["field"] == "term_end"
    expect_error(api.put("/rotation", user="head", json=["x"]), 400, "bad_request")


def test_a_transfer_changes_the_diagrams_calendar_at_once(api, app, ctx, people):
    calendar = lambda: app.extensions["services"].calendar  # noqa: E731
    assert calendar().is_working_day(MONDAY) is True
    created = api.post(
        "/calendar/transfers", user="admin", json={"day": MONDAY.isoformat(), "kind": "holiday"}
    )
    assert created.status_code == 201
    assert created.get_json()["kind"] == "holiday"
    assert calendar().is_working_day(MONDAY) is False
    listed = api.get("/calendar/transfers", user="admin").get_json()["transfers"]
    assert [t["day"] for t in listed] == [MONDAY.isoformat()]
    removed = api.request("DELETE", f"/calendar/transfers/{MONDAY.isoformat()}", user="admin")
    assert removed.status_code == 200 and removed.get_json()["day"] == MONDAY.isoformat()
    assert calendar().is_working_day(MONDAY) is True
    expect_error(api.request("DELETE", f"/calendar/transfers/{MONDAY}", user="admin"), 404, "not_found")
    expect_error(api.get("/calendar/transfers", user="rita"), 403, "forbidden")
    bad = api.post("/calendar/transfers", user="admin", json={"day": MONDAY.isoformat(), "kind": "half"})
    expect_error(bad, 422, "invalid_input")


def test_a_started_instance_computes_deadlines_with_the_new_transfer(api, app, ctx, people):
    """add_working_days in a diagram skips a day declared a holiday a moment before."""
    deployments.deploy(ctx, SYSTEM, read_fixture("working_days.bpmn"))
    api.post("/calendar/transfers", user="admin", json={"day": "2027-02-09", "kind": "holiday"})
    started = api.post(
        "/process-instances",
        user="admin",
        json={"process_model": "working_days", "data": {"start": "2027-02-08"}},
    )
    assert started.status_code == 201, started.get_data(as_text=True)
    assert started.get_json()["data"]["deadline"] == "2027-02-10"


def test_a_transfer_note_over_its_documented_length_is_refused_not_cut(api, app, ctx, people):
    long_note = {"day": MONDAY.isoformat(), "kind": "holiday", "note": "n" * 256}
    body = expect_error(api.post("/calendar/transfers", user="admin", json=long_note), 422, "invalid_input")
    assert body["details"] == [{"field": "note", "message": "at most 255 characters"}]
    assert api.get("/calendar/transfers", user="admin").get_json()["transfers"] == []
    fitting = api.post("/calendar/transfers", user="admin", json={**long_note, "note": "n" * 255})
    assert fitting.status_code == 201 and fitting.get_json()["note"] == "n" * 255
