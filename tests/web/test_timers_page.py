"""The timers page: administrators see upcoming timers, fire one now or move it; others may not."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from app.db.models import AuditRecord, WaitingTimer
from app.services.modelling import deployments
from app.services.people.users import SYSTEM
from app.services.running import instances
from tests.conftest import read_fixture


def _waiting(ctx: Any) -> int:
    deployments.deploy(ctx, SYSTEM, read_fixture("timer_intermediate.bpmn"))
    return instances.start_instance(ctx, SYSTEM, "timer_intermediate", {})["id"]


def _timer(ctx: Any, instance_id: int) -> WaitingTimer | None:
    with ctx.uow() as uow:
        row = uow.session.scalars(select(WaitingTimer).where(WaitingTimer.instance_id == instance_id)).first()
        uow.session.expunge_all()
    return row


def test_admin_moves_and_fires_a_timer(browser: Any, seeded: dict, ctx: Any) -> None:
    instance_id = _waiting(ctx)
    timer = _timer(ctx, instance_id)
    assert timer is not None
    browser.login("admin")
    page = browser.get("/timers").get_data(as_text=True)
    assert f"#{instance_id}" in page and "Wait one hour" in page  # the process and the timer by name

    moved = browser.post(f"/timers/{timer.id}/move", {"due_at": "2030-01-02T09:30"})
    assert moved.status_code == 302
    # 09:30 in Almaty (UTC+5) is 04:30 UTC
    assert _timer(ctx, instance_id).due_at.isoformat() == "2030-01-02T04:30:00+00:00"

    fired = browser.post(f"/timers/{timer.id}/fire")
    assert fired.status_code == 302
    assert _timer(ctx, instance_id) is None
    assert instances.get_instance(ctx, SYSTEM, instance_id)["status"] == "complete"
    with ctx.uow() as uow:
        actions = list(
            uow.session.scalars(select(AuditRecord.action).where(AuditRecord.instance_id == instance_id))
        )
    assert actions == ["instance.started", "timer.moved", "timer.fired"]


def test_timers_page_is_for_administrators(browser: Any, seeded: dict, ctx: Any) -> None:
    _waiting(ctx)
    browser.login("alice")
    assert browser.get("/timers").status_code == 403
