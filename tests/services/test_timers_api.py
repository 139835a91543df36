"""The admin's timer endpoints: GET /api/v1/timers, POST .../fire and .../move."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.services.modelling import deployments
from app.services.people import users
from app.services.people.users import SYSTEM
from app.services.running import instances
from tests.conftest import START, make_user, read_fixture

HOUR = timedelta(hours=1)


@pytest.fixture
def tokens(app, ctx):
    make_user(ctx, "ada", ["admins"])
    make_user(ctx, "clerk", ["clerks"])
    deployments.deploy(ctx, SYSTEM, read_fixture("timer_intermediate.bpmn"))
    deployments.deploy(ctx, SYSTEM, read_fixture("timer_boundary_noninterrupting.bpmn"))
    return {name: users.issue_token(ctx, users.actor_for(ctx, name)) for name in ("ada", "clerk")}


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_admin_lists_moves_and_fires_timers(client, ctx, clock, tokens):
    first = instances.start_instance(ctx, SYSTEM, "timer_intermediate", {})["id"]
    clock.advance(timedelta(minutes=10))
    second = instances.start_instance(ctx, SYSTEM, "timer_boundary_noninterrupting", {})["id"]
    admin = _auth(tokens["ada"])

    listed = client.get("/api/v1/timers", headers=admin)
    assert listed.status_code == 200
    rows = listed.get_json()["timers"]
    assert [(t["instance_id"], t["process_model"], t["element_id"]) for t in rows] == [
        (first, "timer_intermediate", "wait_one_hour"),
        (second, "timer_boundary_noninterrupting", "deadline"),
    ]
    assert rows[0]["due_at"] == (START + HOUR).isoformat() and rows[0]["claimed_by"] is None
    only = client.get("/api/v1/timers?process_model=timer_boundary_noninterrupting", headers=admin)
    assert [t["instance_id"] for t in only.get_json()["timers"]] == [second]
    by_element = client.get("/api/v1/timers?element_id=wait_one_hour", headers=admin)
    assert [t["instance_id"] for t in by_element.get_json()["timers"]] == [first]

    moved = client.post(
        f"/api/v1/timers/{rows[1]['id']}/move", json={"due_at": "2026-03-02T08:00:00+05:00"}, headers=admin
    )
    assert moved.status_code == 200
    assert moved.get_json()["due_at"] == (START - 2 * HOUR).isoformat()
    history = client.get(f"/api/v1/process-instances/{second}/history", headers=admin).get_json()["history"]
    assert history[-1]["action"] == "timer.moved"

    fired = client.post(f"/api/v1/timers/{rows[0]['id']}/fire", headers=admin)
    assert fired.status_code == 200
    assert fired.get_json()["status"] == "complete"
    assert fired.get_json()["fired"][0]["element_id"] == "wait_one_hour"
    assert client.post(f"/api/v1/timers/{rows[0]['id']}/fire", headers=admin).status_code == 404
    assert [t["instance_id"] for t in client.get("/api/v1/timers", headers=admin).get_json()["timers"]] == [
        second
    ]


def test_timer_endpoints_are_for_administrators(client, ctx, clock, tokens):
    instances.start_instance(ctx, SYSTEM, "timer_intermediate", {})
    clerk = _auth(tokens["clerk"])
    assert client.get("/api/v1/timers").status_code == 401
    assert client.get("/api/v1/timers", headers=clerk).status_code == 403
    assert client.post("/api/v1/timers/1/fire", headers=clerk).status_code == 403
    moved = {"due_at": "2026-03-02T10:00:00+05:00"}
    assert client.post("/api/v1/timers/1/move", json=moved, headers=clerk).status_code == 403
    # The document is checked before any handler runs, so a body off its schema is a 422 for anyone.
    assert client.post("/api/v1/timers/1/move", json={"due_at": "soon"}, headers=clerk).status_code == 422


def test_move_needs_a_date_with_an_offset(client, ctx, clock, tokens):
    instances.start_instance(ctx, SYSTEM, "timer_intermediate", {})
    admin = _auth(tokens["ada"])
    for body in ({}, {"due_at": "2026-03-02T10:00:00"}, {"due_at": "tomorrow"}):
        response = client.post("/api/v1/timers/1/move", json=body, headers=admin)
        assert response.status_code == 422
        assert response.get_json()["details"][0]["field"] == "due_at"
    assert (
        client.post("/api/v1/timers/999/move", json={"due_at": START.isoformat()}, headers=admin).status_code
        == 404
    )
