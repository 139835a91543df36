"""Advance workflows: start, complete a human task, fire timers, deliver messages, retry, cancel.

Every function mutates the workflow it is given and leaves persistence to the caller, who
saves the workflow only when the whole step succeeded (or records the error state).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnEvent, BpmnWorkflow
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.specs.event_definitions.timer import (
    CycleTimerEventDefinition,
    DurationTimerEventDefinition,
    TimerEventDefinition,
)
from SpiffWorkflow.bpmn.specs.mixins.events.start_event import StartEvent
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.spiff.specs.event_definitions import MessageEventDefinition
from SpiffWorkflow.util.task import TaskState

from .clock import current_clock
from .errors import EngineError, MessageNotAwaited, TaskNotReady
from .form_rules import FormRule, broken_rules, rule_context
from .serializer import LoadedSpecs
from .snapshots import aware, current_data, message_waits, timer_due, waiting_timers
from .spec_properties import properties_of
from .step_errors import guarded
from .views import MessageWaitView, TimerView

# Guards against a diagram whose gateways keep producing engine work forever.
MAX_ENGINE_ROUNDS = 1000


def _run_engine(workflow: BpmnWorkflow) -> None:
    # do_engine_steps refreshes timers only at its end, so a timer that just came due has
    # made its successor READY without running it: loop until nothing automatic is left.
    for _ in range(MAX_ENGINE_ROUNDS):
        workflow.do_engine_steps()
        if not any(not t.task_spec.manual for t in workflow.get_tasks(state=TaskState.READY)):
            return
    raise EngineError("the workflow did not come to rest (a loop without a waiting task?)")


def create(specs: LoadedSpecs, data: Mapping[str, Any], script_engine: PythonScriptEngine) -> BpmnWorkflow:
    """A new workflow holding the start data; `advance` runs it to its first wait."""
    workflow = BpmnWorkflow(specs.spec, specs.subprocess_specs, script_engine=script_engine)
    for task in workflow.get_tasks(state=TaskState.READY):
        task.data.update(data)
    return workflow


def advance(workflow: BpmnWorkflow) -> None:
    guarded(lambda: _run_engine(workflow))


def attach(workflow: BpmnWorkflow, script_engine: PythonScriptEngine) -> BpmnWorkflow:
    """Give a restored workflow (and its subprocesses) the script engine to run with."""
    workflow.script_engine = script_engine
    return workflow


def complete_task(workflow: BpmnWorkflow, task_id: str, data: Mapping[str, Any]) -> None:
    task = _find_task(workflow, task_id)
    if task is None or not task.task_spec.manual or task.state != TaskState.READY:
        raise TaskNotReady(f"task {task_id} is not waiting to be completed")
    task.data.update(data)
    guarded(task.run)
    guarded(lambda: _run_engine(workflow))


def task_properties(workflow: BpmnWorkflow, task_id: str) -> dict[str, str]:
    """The extension properties of a task's element (empty when the task is gone)."""
    task = _find_task(workflow, task_id)
    return properties_of(task.task_spec) if task is not None else {}


def broken_form_rules(
    workflow: BpmnWorkflow,
    task_id: str,
    rules: list[FormRule],
    schema: Mapping[str, Any] | None,
    data: Mapping[str, Any],
) -> list[dict[str, Any]]:
    """The form rules that `data`, submitted for the task, breaks (nothing is changed)."""
    task = _find_task(workflow, task_id)
    if task is None or not task.task_spec.manual or task.state != TaskState.READY:
        raise TaskNotReady(f"task {task_id} is not waiting to be completed")
    context = rule_context(schema, task.data, data)
    return broken_rules(workflow.script_engine.environment, rules, context)


def fire_timers(workflow: BpmnWorkflow) -> list[TimerView]:
    """Fire every timer that is due (strictly before the clock's now) and run on; returns the
    timers that fired, each as it was waiting before."""
    now = current_clock().now()
    due = [t for t in waiting_timers(workflow) if t.due_at < now]
    cycles = {t.task_id: _cycle_value(workflow, t.task_id) for t in due}
    guarded(workflow.refresh_timers)
    guarded(lambda: _run_engine(workflow))
    still_waiting = {(t.task_id, t.due_at) for t in waiting_timers(workflow)}
    fired = []
    for timer in due:
        before = cycles[timer.task_id]
        if before is not None:
            # The engine refreshes timers after each round: a cycle that fell behind catches up
            # with every missed occurrence in this one call.
            after = _cycle_value(workflow, timer.task_id)
            count = before["cycles"] - after["cycles"] if after is not None else max(before["cycles"], 1)
            step = timedelta(seconds=before["duration"])
            fired.extend(
                TimerView(timer.task_id, timer.element_id, timer.due_at + n * step) for n in range(count)
            )
        elif (timer.task_id, timer.due_at) not in still_waiting:
            fired.append(timer)
    return fired


def _cycle_value(workflow: BpmnWorkflow, task_id: str) -> dict[str, Any] | None:
    task = _find_task(workflow, task_id)
    if task is None or not isinstance(task.task_spec.event_definition, CycleTimerEventDefinition):
        return None
    value = task._get_internal_data("event_value")
    return dict(value) if value is not None else None


def move_timer(workflow: BpmnWorkflow, task_id: str, due_at: datetime) -> TimerView:
    """Give a waiting timer a new due time (the engine's own value, which the stored rows follow)."""
    task = _find_task(workflow, task_id)
    if (
        task is None
        or task.state != TaskState.WAITING
        or not isinstance(getattr(task.task_spec, "event_definition", None), TimerEventDefinition)
        or timer_due(task) is None
    ):
        raise TaskNotReady(f"task {task_id} is not a waiting timer")
    when = aware(due_at).astimezone(UTC).isoformat()
    if isinstance(task.task_spec.event_definition, CycleTimerEventDefinition):
        value = dict(task._get_internal_data("event_value"))
        value["next"] = when
    else:
        value = when
    task._set_internal_data(event_value=value)
    return TimerView(str(task.id), task.task_spec.bpmn_id, timer_due(task))  # type: ignore[arg-type]


@dataclass(frozen=True)
class StartTimer:
    """A timer start event's schedule: first due time, then `cycles` - 1 more, `period` apart
    (cycles is None for a single start, negative for an unbounded cycle)."""

    element_id: str
    due_at: datetime
    cycles: int | None = None
    period: timedelta | None = None


def start_timers(specs: LoadedSpecs, script_engine: PythonScriptEngine, base: datetime) -> list[StartTimer]:
    """The timer start events of a process, with durations counted from `base` (deployment).

    The scheduler starts an instance at each due time (`leave_start_timers`), so that such a
    process is started by the calendar rather than waiting, once started, for its own timer."""
    found = []
    workflow: BpmnWorkflow | None = None
    for spec in specs.spec.task_specs.values():
        event_definition = getattr(spec, "event_definition", None)
        if not isinstance(spec, StartEvent) or not isinstance(event_definition, TimerEventDefinition):
            continue
        if workflow is None:
            workflow = BpmnWorkflow(specs.spec, specs.subprocess_specs, script_engine=script_engine)
        task = workflow.get_tasks(spec_name=spec.name)[0]
        value = guarded(lambda: script_engine.evaluate(task, event_definition.expression))  # noqa: B023
        found.append(guarded(lambda: _start_timer(spec.bpmn_id, event_definition, str(value), base)))  # noqa: B023
    return found


def _start_timer(element_id: str, event_definition, value: str, base: datetime) -> StartTimer:
    if isinstance(event_definition, CycleTimerEventDefinition):
        cycles, start, period = TimerEventDefinition.parse_iso_recurring_interval(value)
        parts = value.upper().replace("--", "/").strip("R").split("/")
        if len(parts) == 2 and parts[1].startswith("P"):  # "R3/PT1H": from deployment on
            start = base + period
        return StartTimer(element_id, aware(start).astimezone(UTC), cycles, period)
    if isinstance(event_definition, DurationTimerEventDefinition):
        parsed = TimerEventDefinition.parse_iso_duration(value)
        return StartTimer(element_id, base + TimerEventDefinition.get_timedelta_from_start(parsed, base))
    return StartTimer(element_id, aware(TimerEventDefinition.get_datetime(value)).astimezone(UTC))


def leave_start_timers(workflow: BpmnWorkflow) -> None:
    """Let a workflow the scheduler just created pass its timer start event now, and once."""
    when = (current_clock().now() - timedelta(microseconds=1)).isoformat()
    for task in workflow.get_tasks(state=TaskState.WAITING, spec_class=StartEvent):
        event_definition = task.task_spec.event_definition
        if isinstance(event_definition, CycleTimerEventDefinition):
            value = dict(task._get_internal_data("event_value") or {"duration": 0})
            task._set_internal_data(event_value={**value, "cycles": 1, "next": when})
        elif isinstance(event_definition, TimerEventDefinition):
            task._set_internal_data(event_value=when)
    fire_timers(workflow)


def _matching_correlations(
    waiting: Mapping[str, Mapping[str, Any]], given: Mapping[str, Any]
) -> dict[str, dict[str, Any]] | None:
    """The event correlations to deliver with, or None when the values do not match."""
    result: dict[str, dict[str, Any]] = {}
    for key, properties in waiting.items():
        if any(name in given and given[name] != value for name, value in properties.items()):
            return None
        result[key] = {name: given.get(name, value) for name, value in properties.items()}
    return result


def awaits_message(wait: MessageWaitView, name: str, correlations: Mapping[str, Any]) -> bool:
    return wait.name == name and _matching_correlations(wait.correlations, correlations) is not None


def deliver_message(
    workflow: BpmnWorkflow, name: str, correlations: Mapping[str, Any], payload: Mapping[str, Any]
) -> None:
    waits = [w for w in message_waits(workflow) if w.name == name]
    matched = [
        c for c in (_matching_correlations(w.correlations, correlations) for w in waits) if c is not None
    ]
    if not matched:
        raise MessageNotAwaited(f"the workflow does not wait for message '{name}' with these values")
    # The receiving side reads correlation values out of the message content (BPMN retrieval
    # expressions), so the content carries them along with the payload.
    content = {**correlations, **payload}
    event = BpmnEvent(MessageEventDefinition(name), payload=content, correlations=matched[0])
    guarded(lambda: workflow.send_event(event))
    guarded(lambda: _run_engine(workflow))


def retry(workflow: BpmnWorkflow) -> None:
    failed = workflow.get_tasks(state=TaskState.ERROR)
    if not failed:
        raise TaskNotReady("no failed step to retry")
    for task in failed:
        task._set_state(TaskState.READY)
    guarded(lambda: _run_engine(workflow))


def set_data(workflow: BpmnWorkflow, changes: Mapping[str, Any]) -> dict[str, Any]:
    """Set variables where the instance goes on from: the data of its failed, ready and waiting
    steps (a retried step reads its own data). Returns each variable's value before, as the
    instance's data showed it (None when it had none)."""
    before = current_data(workflow)
    frontier = TaskState.ERROR | TaskState.READY | TaskState.STARTED | TaskState.WAITING
    open_tasks = workflow.get_tasks(state=frontier)
    if not open_tasks:
        raise TaskNotReady("the instance has no step its data could be set for")
    for task in open_tasks:
        task.data.update(changes)
    return {name: before.get(name) for name in changes}


def cancel(workflow: BpmnWorkflow) -> None:
    workflow.cancel()


def _find_task(workflow: BpmnWorkflow, task_id: str):
    try:
        return workflow.get_task_from_id(UUID(task_id))
    except (ValueError, KeyError, SpiffWorkflowException):
        return None
