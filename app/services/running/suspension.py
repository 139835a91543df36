"""Suspending and resuming an instance (administrators).

While an instance is suspended its tasks cannot be claimed, assigned or completed (409), its
timers do not fire and the messages sent to it wait in `held_messages`. Its timers stay in
`waiting_timers`, held by the suspension as a claim that never expires, so no scheduler claims
them and none wakes up for them; resuming lets go of that claim, so that a scheduler fires at once
those that fell due meanwhile (each once, as any claimed timer), and delivers the held messages in
the order they came.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from ...db.models import HeldMessage, ProcessInstance, WaitingTimer
from ...engine import runner
from ...engine.errors import MessageNotAwaited
from ...errors import Conflict
from .. import audit
from ..context import ServiceContext
from ..people.users import Actor
from ..uow import UnitOfWork
from .instance_store import lock_instance
from .instances import instance_view
from .states import SUSPENDED
from .steps import store_step

# The suspension's claim on an instance's timers: no scheduler's name, and no expiry in sight.
HELD_BY = "suspension"
HELD_UNTIL = datetime(9999, 12, 31, tzinfo=UTC)


def suspend_instance(ctx: ServiceContext, actor: Actor, instance_id: int) -> dict[str, Any]:
    actor.require_admin()
    with ctx.uow(write=True) as uow:
        instance = lock_instance(uow, instance_id)
        if instance.status != "running":
            raise Conflict(f"only a running instance can be suspended; this one is {instance.status}")
        instance.status = SUSPENDED
        instance.updated_at = ctx.now()
        timers = _timers_of(uow, instance)
        for timer in timers:
            timer.claimed_by, timer.claim_expires_at = HELD_BY, HELD_UNTIL
        audit.record(
            uow,
            at=ctx.now(),
            actor=actor.username,
            action="instance.suspended",
            instance_id=instance.id,
            details={"timers_held": len(timers)},
        )
        view = instance_view(uow, instance)
        uow.commit()
    return view


def resume_instance(ctx: ServiceContext, actor: Actor, instance_id: int) -> dict[str, Any]:
    actor.require_admin()
    with ctx.uow(write=True) as uow:
        instance = lock_instance(uow, instance_id)
        if instance.status != SUSPENDED:
            raise Conflict(f"instance {instance_id} is {instance.status}, not suspended")
        instance.status = "running"
        instance.updated_at = ctx.now()
        now = ctx.now()
        timers = _timers_of(uow, instance)
        for timer in timers:  # let go: the scheduler claims those due at its next look
            timer.claimed_by, timer.claim_expires_at = None, None
        due = sum(1 for t in timers if t.due_at <= now)  # the column gives aware UTC times
        delivered = _deliver_held(ctx, uow, instance)
        audit.record(
            uow,
            at=now,
            actor=actor.username,
            action="instance.resumed",
            instance_id=instance.id,
            details={"timers_due": due, "messages_delivered": delivered},
        )
        view = instance_view(uow, instance)
        uow.commit()
    return view


def hold_message(
    ctx: ServiceContext,
    uow: UnitOfWork,
    actor: Actor,
    instance: ProcessInstance,
    name: str,
    correlations: Mapping[str, Any],
    payload: Mapping[str, Any],
) -> None:
    """Keep a message for a suspended instance that waits for it, until it is resumed."""
    uow.session.add(
        HeldMessage(
            instance_id=instance.id,
            message_name=name,
            correlations=dict(correlations),
            payload=dict(payload),
            sent_by=actor.username,
            received_at=ctx.now(),
        )
    )
    audit.record(
        uow,
        at=ctx.now(),
        actor=actor.username,
        action="message.held",
        instance_id=instance.id,
        details={"message": name, "correlations": dict(correlations), "payload": dict(payload)},
    )


def _deliver_held(ctx: ServiceContext, uow: UnitOfWork, instance: ProcessInstance) -> int:
    held = list(
        uow.session.scalars(
            select(HeldMessage).where(HeldMessage.instance_id == instance.id).order_by(HeldMessage.id)
        )
    )
    delivered = 0
    for message in held:

        def deliver(workflow: Any, message: HeldMessage = message) -> None:
            runner.deliver_message(workflow, message.message_name, message.correlations, message.payload)

        details = {"message": message.message_name, "held_since": message.received_at.isoformat()}
        try:
            store_step(ctx, uow, instance, deliver, None)
            action = "message.delivered"
            delivered += 1
        except MessageNotAwaited:
            action = "message.dropped"  # the instance no longer waits for it (an earlier one moved it on)
        audit.record(
            uow, at=ctx.now(), actor=message.sent_by, action=action, instance_id=instance.id, details=details
        )
        uow.session.delete(message)
    return delivered


def _timers_of(uow: UnitOfWork, instance: ProcessInstance) -> list[WaitingTimer]:
    return list(uow.session.scalars(select(WaitingTimer).where(WaitingTimer.instance_id == instance.id)))
