"""Running an engine step: what failed in it, as an EngineError that names the element."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from .errors import EngineError
from .script_errors import ScriptError
from .scripting import error_chain, sandbox_unavailable_in

T = TypeVar("T")


def engine_error(exc: Exception) -> EngineError:
    task = getattr(exc, "task", None)
    element_id = getattr(getattr(task, "task_spec", None), "bpmn_id", None)
    message = str(exc)
    notes = getattr(exc, "__notes__", None)
    if notes:
        message = f"{message} ({'; '.join(notes)})"
    limit = next((e.limit for e in error_chain(exc) if isinstance(e, ScriptError) and e.limit), None)
    return EngineError(
        message, element_id=element_id, task_id=str(task.id) if task is not None else None, limit=limit
    )


def guarded(step: Callable[[], T]) -> T:
    """Run `step`; a failure of diagram code becomes an EngineError (an incident), while a busy
    or unavailable sandbox propagates as it is."""
    try:
        return step()
    except EngineError:
        raise
    except Exception as exc:  # diagram code can fail in any way; the worker reports it as one
        unavailable = sandbox_unavailable_in(exc)
        if unavailable is not None:
            raise unavailable from None  # not the diagram's fault: nothing is recorded
        raise engine_error(exc) from exc
