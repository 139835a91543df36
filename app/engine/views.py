"""Plain, frozen pictures of a workflow: what services store and show, with no engine objects."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class HumanTaskView:
    task_id: str
    element_id: str
    name: str
    titles: dict[str, str]
    lane: str | None
    form_schema: str | None
    form_ui_schema: str | None
    instructions: str | None
    due_at: datetime | None
    # A username the diagram reserves the task for (a ballot is its member's), or None.
    assignee: str | None = None
    # Groups whose members may take the task besides the lane's group.
    other_groups: tuple[str, ...] = ()
    # The instructions in other languages ({"kk": ..., "ru": ...}), from the model's catalogue.
    instruction_texts: dict[str, str] = field(default_factory=dict)
    data: dict[str, Any] = field(repr=False, default_factory=dict)


@dataclass(frozen=True)
class TimerView:
    task_id: str
    element_id: str
    due_at: datetime


@dataclass(frozen=True)
class MessageWaitView:
    name: str
    correlations: dict[str, dict[str, Any]]


@dataclass(frozen=True)
class WorkflowSnapshot:
    completed: bool
    data: dict[str, Any]
    human_tasks: list[HumanTaskView]
    timers: list[TimerView]
    messages: list[MessageWaitView]
    element_states: dict[str, str] = field(default_factory=dict)
