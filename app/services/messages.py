"""Routing a message to the instances that wait for it, or starting a process with it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from SpiffWorkflow.bpmn import BpmnWorkflow
from sqlalchemy import select

from ..db.models import MessageSubscription, ProcessModel, ProcessVersion
from ..engine import runner
from ..engine.errors import MessageNotAwaited
from ..engine.views import MessageWaitView
from ..errors import InvalidInput, NotFound
from . import audit
from .context import ServiceContext
from .instance_store import lock_instance, run_step
from .instances import start_in
from .steps import store_step, work_out_ahead
from .uow import UnitOfWork
from .users import Actor


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

    with ctx.uow() as uow:
        waiting = _waiting_instances(uow, name, correlations)
    running = lambda instance: instance.status == "running"  # noqa: E731
    ahead = {instance_id: work_out_ahead(ctx, instance_id, deliver, running) for instance_id in waiting}
    with ctx.uow(write=True) as uow:
        for instance_id in _waiting_instances(uow, name, correlations):
            instance = lock_instance(uow, instance_id)
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
                instance, workflow, *_ = start_in(ctx, uow, actor, model_id, {})
                try:
                    run_step(ctx, uow, instance, workflow, deliver)
                except MessageNotAwaited:
                    continue
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
