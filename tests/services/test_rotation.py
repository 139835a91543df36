"""Rotation terms: staff change the term, the scheduler starts one rotation per term ahead of its
end, and a completed rotation records the next term."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from app.db.models import AuditRecord, HumanTask
from app.errors import Forbidden, InvalidInput
from app.services.modelling import deployments
from app.services.people.users import SYSTEM
from app.services.running import instances
from app.services.time import rotation
from app.services.work import tasks
from tests.conftest import make_user, read_fixture

# 60 days before 30 June 2026, at midnight in Almaty (UTC+5).
DUE = datetime(2026, 4, 30, 19, 0, tzinfo=UTC)
TICK = timedelta(seconds=1)


@pytest.fixture
def staff(ctx):
    return {
        "head": make_user(ctx, "head", ["secretariat_head", "secretariat"]),
        "clerk": make_user(ctx, "clerk", ["secretariat"]),
        "otto": make_user(ctx, "otto", ["others"]),
    }


def _actions(ctx, prefix: str = "rotation.") -> list[str]:
    with ctx.uow() as uow:
        query = (
            select(AuditRecord.action).where(AuditRecord.action.startswith(prefix)).order_by(AuditRecord.id)
        )
        return list(uow.session.scalars(query))


def _set_term(ctx, actor, **changes):
    changes = {"term_end": "2026-06-30", "term_months": 12, "deputies": ["P. Petrov", "S. Said"], **changes}
    return rotation.update_rotation(ctx, actor, changes)


def test_add_months_keeps_the_day_or_takes_the_last_of_the_month():
    assert rotation.add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert rotation.add_months(date(2026, 11, 15), 3) == date(2027, 2, 15)
    assert rotation.term_end_of(date(2026, 7, 1), 12) == date(2027, 6, 30)


def test_staff_see_the_term_and_the_head_changes_it(ctx, staff):
    empty = rotation.get_rotation(ctx, staff["clerk"])
    assert empty["term_end"] is None and empty["next_rotation_start"] is None
    view = _set_term(ctx, staff["head"])
    assert view["deputies"] == ["P. Petrov", "S. Said"]
    assert view["next_rotation_start"] == DUE.isoformat()
    assert view["updated_by"] == "head"
    assert rotation.get_rotation(ctx, staff["clerk"]) == view
    with pytest.raises(Forbidden):
        _set_term(ctx, staff["clerk"])
    with pytest.raises(Forbidden):
        rotation.get_rotation(ctx, staff["otto"])
    moved = rotation.update_rotation(ctx, SYSTEM, {"lead_days": 30})
    assert moved["next_rotation_start"] == (DUE + timedelta(days=30)).isoformat()
    assert _actions(ctx) == ["rotation.updated", "rotation.updated"]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"term_end": "30.06.2026"}, "term_end"),
        ({"term_months": 0}, "term_months"),
        ({"term_months": "12"}, "term_months"),
        ({"lead_days": -1}, "lead_days"),
        ({"deputies": ["A", "B", "C"]}, "deputies"),
        ({"deputies": [""]}, "deputies"),
        ({"term_start": "2026-07-01"}, "term_end"),
    ],
)
def test_invalid_changes_are_refused_and_change_nothing(ctx, staff, changes, field):
    before = _set_term(ctx, staff["head"])
    with pytest.raises(InvalidInput) as refused:
        rotation.update_rotation(ctx, staff["head"], changes)
    assert refused.value.details[0]["field"] == field
    assert rotation.get_rotation(ctx, staff["head"]) == before
    assert _actions(ctx) == ["rotation.updated"]


def test_the_first_term_needs_an_end(ctx, staff):
    with pytest.raises(InvalidInput):
        rotation.update_rotation(ctx, staff["head"], {"term_months": 6})


def test_a_new_term_length_moves_the_end_of_a_term_with_a_known_start(ctx, staff):
    _set_term(ctx, staff["head"], term_start="2026-01-01", term_end="2026-12-31")
    view = rotation.update_rotation(ctx, staff["head"], {"term_months": 6})
    assert (view["term_end"], view["term_months"]) == ("2026-06-30", 6)
    assert view["next_rotation_start"] == DUE.isoformat()
    [_, changed] = _audit_details(ctx)
    assert changed["previous"]["term_end"] == "2026-12-31" and changed["current"]["term_end"] == "2026-06-30"


def _audit_details(ctx) -> list[dict]:
    with ctx.uow() as uow:
        query = select(AuditRecord).where(AuditRecord.action == "rotation.updated").order_by(AuditRecord.id)
        return [r.details for r in uow.session.scalars(query)]


def test_the_scheduler_starts_one_rotation_per_term_and_records_the_next_term(ctx, clock, staff):
    deployments.deploy(ctx, SYSTEM, read_fixture("rotation_stub.bpmn"))
    _set_term(ctx, staff["head"])
    clock.set(DUE - TICK)
    assert rotation.run_due(ctx) == 0
    clock.set(DUE + TICK)
    assert rotation.run_due(ctx) == 1
    assert rotation.run_due(ctx) == 0
    view = rotation.get_rotation(ctx, staff["clerk"])
    assert view["next_rotation_start"] is None and view["rotation_instance"]["status"] == "running"
    started = instances.get_instance(ctx, SYSTEM, view["rotation_instance"]["id"])
    assert started["data"] == {
        "term_end": "2026-06-30",
        "term_months": 12,
        "current_deputies": ["P. Petrov", "S. Said"],
    }
    # A correction while the rotation runs does not start a second one.
    rotation.update_rotation(ctx, staff["head"], {"term_end": "2026-07-15", "lead_days": 10})
    assert rotation.run_due(ctx) == 0
    assert rotation.next_due(ctx) is None

    with ctx.uow() as uow:
        task_id = uow.session.scalars(select(HumanTask.id)).one()
    new_term = {"new_deputies": ["A. Kim", "R. Aliyev"], "new_start": "2026-07-16", "new_end": "2027-07-15"}
    tasks.complete_task(ctx, staff["clerk"], task_id, new_term)
    assert rotation.run_due(ctx) == 0
    view = rotation.get_rotation(ctx, staff["clerk"])
    assert view["deputies"] == ["A. Kim", "R. Aliyev"]
    assert (view["term_start"], view["term_end"], view["lead_days"]) == ("2026-07-16", "2027-07-15", 10)
    assert view["next_rotation_start"] == "2027-07-04T19:00:00+00:00"
    assert view["rotation_instance"] is None
    assert _actions(ctx) == [
        "rotation.updated",
        "rotation.started",
        "rotation.updated",
        "rotation.term_recorded",
    ]
    rotation.run_due(ctx)
    assert _actions(ctx)[-1] == "rotation.term_recorded"  # recorded once


def test_a_due_rotation_waits_while_the_process_is_not_deployed(ctx, clock, staff):
    _set_term(ctx, staff["head"])
    clock.set(DUE + TICK)
    assert rotation.run_due(ctx) == 0
    assert rotation.next_due(ctx) == DUE
    deployments.deploy(ctx, SYSTEM, read_fixture("rotation_stub.bpmn"))
    assert rotation.run_due(ctx) == 1


def test_a_new_term_end_after_a_finished_rotation_schedules_a_new_one(ctx, clock, staff):
    deployments.deploy(ctx, SYSTEM, read_fixture("rotation_stub.bpmn"))
    _set_term(ctx, staff["head"])
    clock.set(DUE + TICK)
    assert rotation.run_due(ctx) == 1
    instance_id = rotation.get_rotation(ctx, SYSTEM)["rotation_instance"]["id"]
    instances.cancel_instance(ctx, SYSTEM, instance_id)
    view = rotation.update_rotation(ctx, staff["head"], {"term_end": "2026-09-30"})
    assert view["rotation_instance"] is None
    assert view["next_rotation_start"] == "2026-07-31T19:00:00+00:00"


def test_the_scheduler_starts_the_shipped_deputy_rotation(ctx, clock, staff):
    from app.services.people import users
    from app.settings import PROJECT_ROOT

    users.ensure_groups(ctx, users.PROCEDURE_GROUPS)
    deployments.deploy_folders(ctx, SYSTEM, PROJECT_ROOT / "bpmn", PROJECT_ROOT / "forms")
    _set_term(ctx, staff["head"])
    clock.set(DUE + TICK)
    assert rotation.run_due(ctx) == 1
    view = rotation.get_rotation(ctx, staff["clerk"])
    started = instances.get_instance(ctx, SYSTEM, view["rotation_instance"]["id"])
    assert started["status"] == "running", started["error"]
    assert (started["process_model"], [t["name"] for t in started["tasks"]]) == (
        "deputy_rotation",
        ["Task_CollectNominations"],
    )
    assert started["data"]["current_deputies"] == ["P. Petrov", "S. Said"]
    # its reminder timers (60 and 30 days before the term end) wait in the timer table
    from app.db.models import WaitingTimer

    with ctx.uow() as uow:
        due = sorted(uow.session.scalars(select(WaitingTimer.due_at)))
    assert [d.date().isoformat() for d in due][:2] == ["2026-05-01", "2026-05-31"]
