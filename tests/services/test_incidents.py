"""Incidents: failed instances listed with their failing step and retries; retried or cancelled
many at once, each on its own; a variable corrected (audited) before a retry."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.db.models import AuditRecord
from app.errors import Conflict, Forbidden
from app.services.modelling import deployments
from app.services.people.users import SYSTEM
from app.services.running import incidents, instances, suspension
from app.services.work import tasks
from tests.conftest import APPROVAL, make_user, read_fixture
from tests.services.test_timers import timer_rows


@pytest.fixture
def failed(ctx) -> list[int]:
    """Three approvals whose script divides by zero once their review is sent."""
    make_user(ctx, "ada", ["admins"])
    rita = make_user(ctx, "rita", ["reviewers"])
    deployments.deploy(ctx, SYSTEM, read_fixture(*APPROVAL))
    ids = []
    for _ in range(3):
        view = instances.start_instance(ctx, SYSTEM, "approval", {"subject": "S", "divisor": 0})
        done = tasks.complete_task(ctx, rita, view["tasks"][0]["id"], {"approved": True, "comment": "ok"})
        assert done["status"] == "error"
        ids.append(view["id"])
    return ids


def test_failed_instances_are_listed_with_their_step_and_retries(ctx, failed):
    admin = make_user(ctx, "root", ["admins"])
    listed = incidents.list_incidents(ctx, admin)
    assert sorted(i["instance_id"] for i in listed) == failed
    assert {(i["element_id"], i["retries"]) for i in listed} == {("Script_Record", 0)}
    assert all("division" in i["message"] for i in listed)
    instances.retry_instance(ctx, admin, failed[0])
    counts = {i["instance_id"]: i["retries"] for i in incidents.list_incidents(ctx, admin)}
    assert counts[failed[0]] == 1 and counts[failed[1]] == 0
    with pytest.raises(Forbidden):
        incidents.list_incidents(ctx, make_user(ctx, "clerk", ["secretariat"]))


def test_a_corrected_variable_then_a_bulk_retry_where_one_fails_again(ctx, failed):
    admin = make_user(ctx, "root", ["admins"])
    view = incidents.edit_data(ctx, admin, failed[0], {"divisor": 4})
    assert view["status"] == "error"  # corrected, not yet retried
    results = incidents.retry_many(ctx, admin, [failed[0], failed[1], 424242])
    assert [(r["instance_id"], r["outcome"], r["status"]) for r in results] == [
        (failed[0], "done", "complete"),
        (failed[1], "failed again", "error"),
        (424242, "refused", None),
    ]
    assert instances.get_instance(ctx, SYSTEM, failed[0])["data"]["ratio"] == 25
    with ctx.uow() as uow:
        [edit] = uow.session.scalars(select(AuditRecord).where(AuditRecord.action == "instance.data_edited"))
        assert (edit.actor, edit.instance_id) == ("root", failed[0])
        assert edit.details == {"changes": {"divisor": {"old": 0, "new": 4}}}
    results = incidents.cancel_many(ctx, admin, [failed[1], failed[2], failed[0]])
    assert [r["outcome"] for r in results] == ["done", "done", "refused"]  # the first is complete
    assert incidents.list_incidents(ctx, admin) == []


def test_only_a_failed_or_suspended_instance_is_edited(ctx, timer_models):
    admin = timer_models
    instance_id = instances.start_instance(ctx, SYSTEM, "timer_boundary_noninterrupting", {})["id"]
    with pytest.raises(Conflict):
        incidents.edit_data(ctx, admin, instance_id, {"note": "x"})
    suspension.suspend_instance(ctx, admin, instance_id)
    incidents.edit_data(ctx, admin, instance_id, {"note": "x"})
    view = instances.get_instance(ctx, SYSTEM, instance_id)
    assert view["status"] == "suspended" and len(view["tasks"]) == 1
    [timer] = timer_rows(ctx, instance_id)
    assert timer.claimed_by == suspension.HELD_BY  # still held by the suspension
