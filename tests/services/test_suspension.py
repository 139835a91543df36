"""Suspend and resume: a suspended instance's tasks stay as they are, its timers wait and fire once
at resume if due, its messages wait and arrive at resume; each step audited."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.db.models import AuditRecord, HeldMessage
from app.errors import Conflict, Forbidden
from app.services.modelling import deployments
from app.services.people.users import SYSTEM
from app.services.running import instances, messages, suspension
from app.services.time import timers
from app.services.work import tasks
from tests.conftest import START, make_user, read_fixture
from tests.services.test_timers import fired_records, run, start, timer_rows

HOUR = timedelta(hours=1)
TICK = timedelta(milliseconds=1)


def _actions(ctx, instance_id: int) -> list[str]:
    query = select(AuditRecord.action).where(AuditRecord.instance_id == instance_id).order_by(AuditRecord.id)
    with ctx.uow() as uow:
        return list(uow.session.scalars(query))


def test_a_suspended_instance_keeps_its_task_and_its_timer_until_resumed(ctx, clock, timer_models):
    admin = timer_models
    instance_id = start(ctx, "timer_boundary_noninterrupting")
    [work] = instances.get_instance(ctx, SYSTEM, instance_id)["tasks"]
    assert suspension.suspend_instance(ctx, admin, instance_id)["status"] == "suspended"
    for attempt in (
        lambda: tasks.claim_task(ctx, admin, work["id"]),
        lambda: tasks.complete_task(ctx, admin, work["id"], {}),
        lambda: tasks.assign_task(ctx, admin, work["id"], "ada"),
    ):
        with pytest.raises(Conflict, match="is suspended"):
            attempt()
    clock.set(START + 2 * HOUR)  # the boundary timer fell due an hour ago
    assert run(ctx) == 0 and fired_records(ctx, instance_id) == []
    assert timers.next_wakeup(ctx) is None or timers.next_wakeup(ctx).year == 9999  # nothing to wake for
    [held] = timer_rows(ctx, instance_id)
    assert held.claimed_by == suspension.HELD_BY
    with pytest.raises(Conflict):
        suspension.suspend_instance(ctx, admin, instance_id)  # once is enough

    assert suspension.resume_instance(ctx, admin, instance_id)["status"] == "running"
    assert run(ctx) == 1 and run(ctx) == 0  # the due timer fires once, at resume
    [record] = fired_records(ctx, instance_id)
    assert record.details["due_at"] == (START + HOUR).isoformat()
    tasks.claim_task(ctx, admin, work["id"])
    assert tasks.complete_task(ctx, admin, work["id"], {})["status"] == "complete"
    actions = _actions(ctx, instance_id)
    order = [actions.index(a) for a in ("instance.suspended", "instance.resumed", "timer.fired")]
    assert order == sorted(order)


def test_only_administrators_suspend_and_resume(ctx, clock, timer_models):
    instance_id = start(ctx, "timer_intermediate")
    clerk = make_user(ctx, "clerk", ["secretariat"])
    with pytest.raises(Forbidden):
        suspension.suspend_instance(ctx, clerk, instance_id)
    suspension.suspend_instance(ctx, timer_models, instance_id)
    with pytest.raises(Forbidden):
        suspension.resume_instance(ctx, clerk, instance_id)
    assert instances.get_instance(ctx, SYSTEM, instance_id)["status"] == "suspended"


def test_messages_wait_for_a_suspended_instance_and_arrive_at_resume(ctx, clock):
    admin = make_user(ctx, "ada", ["admins"])
    deployments.deploy(ctx, SYSTEM, read_fixture("payment_wait.bpmn"))
    waiting = instances.start_instance(ctx, SYSTEM, "payment_wait", {"order_id": "A-1"})["id"]
    suspension.suspend_instance(ctx, admin, waiting)
    sent = messages.send_message(ctx, SYSTEM, "payment_received", {"order_id": "A-1"}, {"amount": 5})
    assert sent == [waiting]
    view = instances.get_instance(ctx, SYSTEM, waiting)
    assert view["status"] == "suspended" and "payment" not in view["data"]
    view = suspension.resume_instance(ctx, admin, waiting)
    assert view["status"] == "complete"
    assert instances.get_instance(ctx, SYSTEM, waiting)["data"]["payment"] == {"order_id": "A-1", "amount": 5}
    with ctx.uow() as uow:
        assert list(uow.session.scalars(select(HeldMessage))) == []
    actions = _actions(ctx, waiting)
    assert actions.index("message.held") < actions.index("message.delivered")


def test_cancelling_a_suspended_instance_drops_what_it_held(ctx, clock):
    admin = make_user(ctx, "ada", ["admins"])
    deployments.deploy(ctx, SYSTEM, read_fixture("payment_wait.bpmn"))
    waiting = instances.start_instance(ctx, SYSTEM, "payment_wait", {"order_id": "B-1"})["id"]
    suspension.suspend_instance(ctx, admin, waiting)
    messages.send_message(ctx, SYSTEM, "payment_received", {"order_id": "B-1"}, {})
    assert instances.cancel_instance(ctx, admin, waiting)["status"] == "cancelled"
    with ctx.uow() as uow:
        assert list(uow.session.scalars(select(HeldMessage))) == []
    with pytest.raises(Conflict):
        suspension.resume_instance(ctx, admin, waiting)
