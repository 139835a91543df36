"""Plain pictures of a workflow, for the services to store and show: its human tasks (titles,
instructions and due dates by language), waiting timers and messages, current data and the state
of each element. Read-only."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.specs.event_definitions.timer import CycleTimerEventDefinition, TimerEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.event_types import CatchingEvent
from SpiffWorkflow.spiff.specs.event_definitions import MessageEventDefinition
from SpiffWorkflow.util.task import TaskState

from .features import spec_features
from .script_errors import SandboxUnavailable
from .spec_properties import LANGUAGES, other_groups, properties_of
from .views import HumanTaskView, MessageWaitView, TimerView, WorkflowSnapshot


def aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.astimezone()


def timer_due(task) -> datetime | None:
    event_definition = task.task_spec.event_definition
    value = task._get_internal_data("event_value")
    if value is None:
        return None
    if isinstance(event_definition, CycleTimerEventDefinition):
        if value.get("cycles") == 0:
            return None
        value = value["next"]
    return aware(TimerEventDefinition.get_datetime(value))


def waiting_timers(workflow: BpmnWorkflow) -> list[TimerView]:
    timers = []
    for task in workflow.get_tasks(state=TaskState.WAITING, spec_class=CatchingEvent):
        if isinstance(task.task_spec.event_definition, TimerEventDefinition):
            due = timer_due(task)
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


def _assignee(workflow: BpmnWorkflow, task, expression: str | None) -> str | None:
    if not expression:
        return None
    try:
        value = workflow.script_engine.evaluate(task, expression)
    except SandboxUnavailable:
        raise
    except Exception:  # no assignee: the task stays with its lane's group
        return None
    return value if isinstance(value, str) and value else None


def _due_at(workflow: BpmnWorkflow, task, expression: str | None) -> datetime | None:
    if not expression:
        return None
    try:
        value = workflow.script_engine.evaluate(task, expression)
        return aware(datetime.fromisoformat(value)) if isinstance(value, str) and value else None
    except SandboxUnavailable:
        raise
    except Exception:  # a bad or missing due date must not block the task itself
        return None


def human_tasks(workflow: BpmnWorkflow) -> list[HumanTaskView]:
    views = []
    for task in workflow.get_tasks(state=TaskState.READY, manual=True):
        spec = task.task_spec
        properties = properties_of(spec)
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
                assignee=_assignee(workflow, task, properties.get("assignee")),
                other_groups=other_groups(properties),
                instruction_texts={
                    lang: properties[f"instructions_{lang}"]
                    for lang in LANGUAGES
                    if properties.get(f"instructions_{lang}")
                },
                data=task.data,
            )
        )
    return views


def current_data(workflow: BpmnWorkflow) -> dict[str, Any]:
    """The data of the most recently completed task, in the workflow or any of its sub-processes
    (a case inside a sub-process shows what was entered there), then the workflow's own data."""
    data: dict[str, Any] = {}
    candidates = [workflow.last_task, *(sub.last_task for sub in workflow.subprocesses.values())]
    finished = [task for task in candidates if task is not None]
    if finished:
        latest = max(finished, key=lambda task: task.last_state_change)
        data.update(latest.data)
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


def completed_among(workflow: BpmnWorkflow, task_ids: list[str]) -> set[str]:
    """Which of these tasks the workflow holds as completed. A task withdrawn (by an interrupting
    boundary event, a poll closed early, a cancelled case) is cancelled or no longer in the tree."""
    trees = [workflow.tasks, *(sub.tasks for sub in workflow.subprocesses.values())]
    done = set()
    for task_id in task_ids:
        key = UUID(task_id)
        task = next((tree[key] for tree in trees if key in tree), None)
        if task is not None and task.state == TaskState.COMPLETED:
            done.add(task_id)
    return done


def snapshot(workflow: BpmnWorkflow) -> WorkflowSnapshot:
    # Each kind is a walk over the task tree: skip the kinds the process can never wait for.
    features = spec_features(workflow)
    return WorkflowSnapshot(
        completed=workflow.is_completed(),
        data=current_data(workflow),
        human_tasks=human_tasks(workflow) if features.human_tasks else [],
        timers=waiting_timers(workflow) if features.timers else [],
        messages=message_waits(workflow) if features.messages else [],
        element_states=element_states(workflow),
    )
