"""Engine steps worked out before the write lock, and stored under it.

A step runs diagram code in sandbox workers, which may take seconds; SQLite's write lock is the
whole database's, and PostgreSQL's row lock holds up the instance's other requests. So a use
case works the step out first, on the instance as read, and under the lock stores that result
when the instance's row version shows it unchanged, or runs the step again there (completions
and timer firings do the same with their own reads).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from SpiffWorkflow.bpmn import BpmnWorkflow

from ...db.models import ProcessInstance
from ...engine.errors import EngineError, MessageNotAwaited, TaskNotReady
from ..context import ServiceContext
from ..uow import UnitOfWork
from .instance_store import Captured, capture, engine_step, load_workflow, save_workflow

EngineStep = Callable[[BpmnWorkflow], Any]


@dataclass
class Step:
    """A step worked out on an instance as its row version held it; nothing stored yet."""

    row_version: int
    workflow: BpmnWorkflow
    result: Any  # what the step returned (None when it failed)
    error: EngineError | None  # the diagram code's failure, which the instance will record
    captured: Captured


def work_out(ctx: ServiceContext, uow: UnitOfWork, instance: ProcessInstance, step: EngineStep) -> Step:
    """Run `step` on the instance's workflow. Errors that mean the step does not apply (a task
    no longer ready, a message not awaited) propagate."""
    workflow = load_workflow(ctx, uow, instance)
    results: list[Any] = []
    error = engine_step(workflow, lambda w: results.append(step(w)))
    result = results[0] if results else None
    return Step(instance.row_version, workflow, result, error, capture(ctx, instance, workflow, error))


def work_out_ahead(
    ctx: ServiceContext, instance_id: int, step: EngineStep, applies: Callable[[ProcessInstance], bool]
) -> Step | None:
    """The step worked out before any lock, or None when the instance is gone, `applies` says
    no, or the step does not apply (the locked path then decides, and answers)."""
    with ctx.uow() as uow:
        instance = uow.session.get(ProcessInstance, instance_id)
        if instance is None or not applies(instance):
            return None
        try:
            return work_out(ctx, uow, instance, step)
        except (TaskNotReady, MessageNotAwaited):
            return None


def store_step(
    ctx: ServiceContext, uow: UnitOfWork, instance: ProcessInstance, step: EngineStep, ahead: Step | None
) -> Step:
    """Under the instance's lock: the step worked out ahead when the instance is unchanged since,
    else the step run again here; stored either way."""
    done = ahead
    if done is None or done.row_version != instance.row_version:
        done = work_out(ctx, uow, instance, step)
    save_workflow(ctx, uow, instance, done.workflow, error=done.error, captured=done.captured)
    return done
