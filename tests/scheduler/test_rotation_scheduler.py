"""The scheduler in this process starts the Deputy Chairmen's rotation once, woken by the change."""

from __future__ import annotations

from app.scheduler import TimerScheduler
from app.services.modelling import deployments
from app.services.people.users import SYSTEM
from app.services.time import rotation
from tests.conftest import make_user, read_fixture
from tests.scheduler.conftest import wait_until


def test_a_rescheduled_rotation_due_now_starts_once_without_a_poll(ctx, clock):
    make_user(ctx, "clerk", ["secretariat"])
    deployments.deploy(ctx, SYSTEM, read_fixture("rotation_stub.bpmn"))
    scheduler = TimerScheduler(ctx, poll_seconds=86400)
    scheduler.start()
    try:
        wait_until(lambda: scheduler.passes >= 1)
        # Due at midnight of 2 March in Almaty: already passed at START (10:00 that day).
        rotation.update_rotation(ctx, SYSTEM, {"term_end": "2026-03-05", "lead_days": 3})
        wait_until(lambda: scheduler.started == 1, timeout=5)
        passes = scheduler.passes
        scheduler.wake()
        wait_until(lambda: scheduler.passes > passes, timeout=5)
        assert scheduler.started == 1
        view = rotation.get_rotation(ctx, SYSTEM)
        assert view["rotation_instance"]["status"] == "running" and view["next_rotation_start"] is None
    finally:
        scheduler.shutdown()
