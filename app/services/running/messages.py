"""Routing a message to the instances that wait for it, or starting a process with it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from SpiffWorkflow.bpmn import BpmnWorkflow
from sqlalchemy import select

from ...db.models import MessageSubscription, ProcessModel, ProcessVersion
from ...engine import runner
from ...engine.errors import MessageNotAwaited
from ...engine.views import MessageWaitView
from ...errors import InvalidInput, NotFound
from .. import audit
from ..context import ServiceContext
from ..people.users import Actor
from ..uow import UnitOfWork
from .instance_store import lock_instance
from .instances import prepare_start, start_prepared, store_start
from .steps import store_step, work_out_ahead
from .suspension import SUSPENDED, hold_message


def _waiting_instances(uow: UnitOfWork, name: str, correlations: Mapping[str, Any]) -> list[int]:
    rows = uow.session.scalars(select(MessageSubscription).where(MessageSubscription.message_name == name))
    matching = {
        row.instance_id
        for row in rows
        if runner.awaits_message(MessageWaitView(name, row.correlations or {}), name, correlations)
    }
    return sorted(matching)


def _models_started_by(uow: UnitOfWork, name: str) -> list[str]:
    query = select(ProcessVersion).join(
        ProcessModel,
        (ProcessModel.id == ProcessVersion.model_id)
        & (ProcessModel.latest_version == ProcessVersion.version),
    )
    return sorted(v.model_id for v in uow.session.scalars(query) if name in (v.start_messages or []))


def send_message(
    ctx: ServiceContext, actor: Actor, name: str, correlations: Mapping[str, Any], payload: Mapping[str, Any]
) -> list[int]:
    if not name or not isinstance(correlations, Mapping) or not isinstance(payload, Mapping):
        raise InvalidInput(
            "a message needs a name, and correlations and payload as objects",
            [{"field": "name", "message": "required"}],
        )
    delivered: list[int] = []

    def deliver(workflow: BpmnWorkflow) -> None:
        runner.deliver_message(workflow, name, correlations, payload)

    def deliver_if_awaited(workflow: BpmnWorkflow) -> bool:
        try:
            deliver(workflow)
        except MessageNotAwaited:
            return False  # raised before the workflow is touched
        return True

    # Deliveries and starts run diagram code in sandbox workers: worked out before the write lock.
    with ctx.uow() as uow:
        waiting = _waiting_instances(uow, name, correlations)
        starters = [] if waiting else _models_started_by(uow, name)
    running = lambda instance: instance.status == "running"  # noqa: E731
    ahead = {instance_id: work_out_ahead(ctx, instance_id, deliver, running) for instance_id in waiting}
    prepared = {m: prepare_start(ctx, actor, m, {}, then=deliver_if_awaited) for m in starters}
    with ctx.uow(write=True) as uow:
        for instance_id in _waiting_instances(uow, name, correlations):
            instance = lock_instance(uow, instance_id)
            if instance.status == SUSPENDED:
                hold_message(ctx, uow, actor, instance, name, correlations, payload)
                delivered.append(instance.id)
                continue
            if instance.status != "running":
                continue
            try:
                store_step(ctx, uow, instance, deliver, ahead.get(instance_id))
            except MessageNotAwaited:
                continue
            audit.record(
                uow,
                at=ctx.now(),
                actor=actor.username,
                action="message.delivered",
                instance_id=instance.id,
                details={"message": name, "correlations": dict(correlations), "payload": dict(payload)},
            )
            delivered.append(instance.id)
        if not delivered:
            for model_id in _models_started_by(uow, name):
                ready = prepared.get(model_id)
                new = start_prepared(ctx, uow, actor, model_id, {}, ready, deliver_if_awaited)
                instance = store_start(ctx, uow, new).instance
                if not new.then_result:
                    continue  # stored, as its start went, but it does not take this message
                audit.record(
                    uow,
                    at=ctx.now(),
                    actor=actor.username,
                    action="instance.started_by_message",
                    instance_id=instance.id,
                    details={
                        "model": model_id,
                        "message": name,
                        "correlations": dict(correlations),
                        "payload": dict(payload),
                    },
                )
                delivered.append(instance.id)
        if not delivered:
            raise NotFound(f"no instance or process waits for message '{name}' with these correlation values")
        uow.commit()
    return delivered
