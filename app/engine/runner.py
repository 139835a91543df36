"""Advance workflows: start, complete a human task, fire timers, deliver messages, retry, cancel.

Every function mutates the workflow it is given and leaves persistence to the caller, who
saves the workflow only when the whole step succeeded (or records the error state).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, TypeVar
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnEvent, BpmnWorkflow
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.specs.event_definitions.timer import CycleTimerEventDefinition, TimerEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.event_types import CatchingEvent
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.spiff.specs.event_definitions import MessageEventDefinition
from SpiffWorkflow.util.task import TaskState

from .errors import EngineError, MessageNotAwaited, TaskNotReady
from .serializer import LoadedSpecs
from .views import FailedTaskView, HumanTaskView, MessageWaitView, TimerView, WorkflowSnapshot

T = TypeVar("T")
LANGUAGES = ("kk", "ru", "en")
# Guards against a diagram whose gateways keep producing engine work forever.
MAX_ENGINE_ROUNDS = 1000


def _engine_error(exc: Exception) -> EngineError:
    task = getattr(exc, "task", None)
    element_id = getattr(getattr(task, "task_spec", None), "bpmn_id", None)
    message = str(exc)
    notes = getattr(exc, "__notes__", None)
    if notes:
        message = f"{message} ({'; '.join(notes)})"
    return EngineError(message, element_id=element_id, task_id=str(task.id) if task is not None else None)


def _guarded(step: Callable[[], T]) -> T:
    try:
        return step()
    except EngineError:
        raise
    except (SpiffWorkflowException, Exception) as exc:  # scripts can raise anything
        raise _engine_error(exc) from exc


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
    _guarded(lambda: _run_engine(workflow))


def attach(workflow: BpmnWorkflow, script_engine: PythonScriptEngine) -> BpmnWorkflow:
    """Give a restored workflow (and its subprocesses) the script engine to run with."""
    workflow.script_engine = script_engine
    return workflow


def complete_task(workflow: BpmnWorkflow, task_id: str, data: Mapping[str, Any]) -> None:
    task = _find_task(workflow, task_id)
    if task is None or not task.task_spec.manual or task.state != TaskState.READY:
        raise TaskNotReady(f"task {task_id} is not waiting to be completed")
    task.data.update(data)
    _guarded(task.run)
    _guarded(lambda: _run_engine(workflow))


def fire_timers(workflow: BpmnWorkflow) -> None:
    _guarded(workflow.refresh_timers)
    _guarded(lambda: _run_engine(workflow))


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
    _guarded(lambda: workflow.send_event(event))
    _guarded(lambda: _run_engine(workflow))


def retry(workflow: BpmnWorkflow) -> None:
    failed = workflow.get_tasks(state=TaskState.ERROR)
    if not failed:
        raise TaskNotReady("no failed step to retry")
    for task in failed:
        task._set_state(TaskState.READY)
    _guarded(lambda: _run_engine(workflow))


def cancel(workflow: BpmnWorkflow) -> None:
    workflow.cancel()


def _find_task(workflow: BpmnWorkflow, task_id: str):
    try:
        return workflow.get_task_from_id(UUID(task_id))
    except (ValueError, KeyError, SpiffWorkflowException):
        return None


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.astimezone()


def _timer_due(task) -> datetime | None:
    event_definition = task.task_spec.event_definition
    value = task._get_internal_data("event_value")
    if value is None:
        return None
    if isinstance(event_definition, CycleTimerEventDefinition):
        if value.get("cycles") == 0:
            return None
        value = value["next"]
    return _aware(TimerEventDefinition.get_datetime(value))


def waiting_timers(workflow: BpmnWorkflow) -> list[TimerView]:
    timers = []
    for task in workflow.get_tasks(state=TaskState.WAITING, spec_class=CatchingEvent):
        if isinstance(task.task_spec.event_definition, TimerEventDefinition):
            due = _timer_due(task)
            if due is not None:
                timers.append(TimerView(str(task.id), task.task_spec.bpmn_id, due))
    return sorted(timers, key=lambda t: t.due_at)


def message_waits(workflow: BpmnWorkflow) -> list[MessageWaitView]:
    waits = []
    for task in workflow.get_tasks(state=TaskState.WAITING, spec_class=CatchingEvent):
        event_definition = task.task_spec.event_definition
        if isinstance(event_definition, MessageEventDefinition):
            correlations = {k: dict(v) for k, v in (task.workflow.correlations or {}).items()}
            waits.append(MessageWaitView(event_definition.name, correlations))
    return waits


def _due_at(workflow: BpmnWorkflow, task, expression: str | None) -> datetime | None:
    if not expression:
        return None
    try:
        value = workflow.script_engine.evaluate(task, expression)
        return _aware(datetime.fromisoformat(value)) if isinstance(value, str) and value else None
    except Exception:  # a bad or missing due date must not block the task itself
        return None


def human_tasks(workflow: BpmnWorkflow) -> list[HumanTaskView]:
    views = []
    for task in workflow.get_tasks(state=TaskState.READY, manual=True):
        spec = task.task_spec
        properties = (spec.extensions or {}).get("properties", {})
        name = spec.bpmn_name or spec.bpmn_id
        titles = {"en": properties.get("title_en") or name}
        titles.update(
            {lang: properties[f"title_{lang}"] for lang in LANGUAGES if properties.get(f"title_{lang}")}
        )
        views.append(
            HumanTaskView(
                task_id=str(task.id),
                element_id=spec.bpmn_id,
                name=name,
                titles=titles,
                lane=spec.lane,
                form_schema=properties.get("formJsonSchemaFilename"),
                form_ui_schema=properties.get("formUiSchemaFilename"),
                instructions=(spec.extensions or {}).get("instructionsForEndUser"),
                due_at=_due_at(workflow, task, properties.get("due_at")),
                data=task.data,
            )
        )
    return views


def current_data(workflow: BpmnWorkflow) -> dict[str, Any]:
    data: dict[str, Any] = {}
    if workflow.last_task is not None:
        data.update(workflow.last_task.data)
    data.update(workflow.data)
    return data


_STATE_NAMES = {
    TaskState.COMPLETED: "completed",
    TaskState.READY: "active",
    TaskState.STARTED: "active",
    TaskState.WAITING: "waiting",
    TaskState.ERROR: "error",
}
_STATE_RANK = {"completed": 0, "waiting": 1, "active": 2, "error": 3}


def element_states(workflow: BpmnWorkflow) -> dict[str, str]:
    states: dict[str, str] = {}
    for task in workflow.get_tasks():
        element_id = getattr(task.task_spec, "bpmn_id", None)
        name = _STATE_NAMES.get(task.state)
        if element_id and name and _STATE_RANK[name] >= _STATE_RANK.get(states.get(element_id, ""), -1):
            states[element_id] = name
    return states


def snapshot(workflow: BpmnWorkflow) -> WorkflowSnapshot:
    return WorkflowSnapshot(
        completed=workflow.is_completed(),
        data=current_data(workflow),
        human_tasks=human_tasks(workflow),
        timers=waiting_timers(workflow),
        messages=message_waits(workflow),
        failed=[
            FailedTaskView(str(t.id), t.task_spec.bpmn_id) for t in workflow.get_tasks(state=TaskState.ERROR)
        ],
        element_states=element_states(workflow),
    )
