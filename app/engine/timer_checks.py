"""Deployment checks of timer expressions: the values that need no instance data."""

from __future__ import annotations

import ast
from collections.abc import Callable
from typing import Any

from SpiffWorkflow.bpmn.specs.event_definitions.timer import (
    CycleTimerEventDefinition,
    DurationTimerEventDefinition,
    TimeDateEventDefinition,
    TimerEventDefinition,
)

from .script_errors import ScriptError

# Evaluates a timer expression without instance data, in a sandbox worker (NameError when it
# reads a variable).
TimerEvaluator = Callable[[str], Any]


def _timer_value(source: str, evaluate: TimerEvaluator | None) -> tuple[Any, str | None]:
    """(the value of a timer expression that needs no instance data, or None; why it failed).

    A literal is read without running anything; other code only by `evaluate`, in a sandbox
    worker. An expression that reads instance data is checked when an instance reaches it."""
    try:
        return ast.literal_eval(source.strip()), None
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        pass
    if evaluate is None:
        return None, None
    try:
        return evaluate(source), None
    except NameError:
        return None, None
    except ScriptError as exc:
        return None, f"timer expression: {exc}"


def check_timer_value(
    event_definition: TimerEventDefinition, source: str, evaluate: TimerEvaluator | None = None
) -> str | None:
    """A timer value that needs no instance data can be checked now."""
    value, error = _timer_value(source, evaluate)
    if error is not None or not isinstance(value, str):
        return error
    try:
        if isinstance(event_definition, TimeDateEventDefinition):
            parsed = TimerEventDefinition.get_datetime(value)
            if parsed.tzinfo is None:
                return f"timer date {value!r} has no time zone offset"
        elif isinstance(event_definition, DurationTimerEventDefinition):
            TimerEventDefinition.parse_iso_duration(value)
        elif isinstance(event_definition, CycleTimerEventDefinition):
            TimerEventDefinition.parse_iso_recurring_interval(value)
    except Exception as exc:
        return f"invalid timer value {value!r}: {exc}"
    return None
