"""What a deployed process can wait for, so that saving an instance skips side tables it never uses."""

from __future__ import annotations

import threading
import weakref
from dataclasses import dataclass
from typing import Any

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition


@dataclass(frozen=True)
class SpecFeatures:
    """What a process can wait for: what the side tables of its instances may ever hold."""

    human_tasks: bool
    timers: bool
    messages: bool


_FEATURES: weakref.WeakKeyDictionary[Any, SpecFeatures] = weakref.WeakKeyDictionary()
_FEATURES_LOCK = threading.Lock()


def spec_features(workflow: BpmnWorkflow) -> SpecFeatures:
    """Computed once per (shared) spec of a deployed version."""
    with _FEATURES_LOCK:
        found = _FEATURES.get(workflow.spec)
    if found is not None:
        return found
    task_specs = [
        t for s in (workflow.spec, *workflow.subprocess_specs.values()) for t in s.task_specs.values()
    ]
    events = [e for e in (getattr(t, "event_definition", None) for t in task_specs) if e is not None]
    found = SpecFeatures(
        human_tasks=any(t.manual for t in task_specs),
        timers=any(_holds(e, TimerEventDefinition) for e in events),
        messages=any(_holds(e, MessageEventDefinition) for e in events),
    )
    with _FEATURES_LOCK:
        _FEATURES[workflow.spec] = found
    return found


def _holds(event_definition: Any, kind: type) -> bool:
    # A multiple event definition holds several definitions.
    inner = getattr(event_definition, "event_definitions", None)
    if inner:
        return any(_holds(e, kind) for e in inner)
    return isinstance(event_definition, kind)
