"""The one evaluator of diagram code: scripts, pre- and post-scripts, gateway conditions, timer
expressions, multi-instance expressions, DMN cells, message payloads and correlations, and the
task properties the server reads (due dates, assignees).

SpiffWorkflow hands every piece of code to its script engine's environment; this environment
sends it, with the task data, to a sandbox worker (`sandbox_pool`), and answers the worker's
calls of the functions diagrams may use (working days, group members...) here, in the server.
Only the simplest expressions (`simple_expressions`) are evaluated in the server itself.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from functools import lru_cache
from typing import Any

from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.script_engine.python_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment
from SpiffWorkflow.exceptions import SpiffWorkflowException

from ..sandbox import policy, protocol
from .sandbox_pool import WorkerPool
from .script_errors import (
    SandboxUnavailable,
    ScriptError,
    ScriptLimitExceeded,
    ScriptRaised,
    ScriptRejected,
    ScriptValueError,
)
from .simple_expressions import simple_expression


class ScriptNameError(ScriptRaised, NameError):
    """A name the code used is not defined (SpiffWorkflow then suggests similar names)."""

    def describe(self) -> str:
        return f"NameError: {self}"


_UNDEFINED_NAME = re.compile(r"name '[^']+' is not defined")


class SandboxEnvironment(BasePythonScriptEngineEnvironment):
    """SpiffWorkflow's environment contract, evaluated in sandbox workers."""

    def __init__(
        self,
        pool: WorkerPool,
        functions: Mapping[str, Callable[..., Any]] | None = None,
        *,
        unrestricted: bool = False,
    ) -> None:
        exposed = dict(functions or {})
        for name, fn in exposed.items():
            if not callable(fn) or isinstance(fn, type):
                raise TypeError(f"{name!r}: only functions can be exposed to diagram code")
            if name.startswith("_"):
                raise ValueError(f"{name!r}: diagram code cannot call names starting with '_'")
        super().__init__(exposed)
        self.pool = pool
        self.unrestricted = unrestricted
        self.element_id: str | None = None  # the element whose code runs (set by the engine)
        self.printed: list[tuple[str | None, str]] = []  # what print() wrote, by element

    def take_printed(self) -> list[tuple[str | None, str]]:
        """What print() wrote since the last call, as (element id, text)."""
        printed, self.printed = self.printed, []
        return printed

    def evaluate(
        self, expression: str, context: dict[str, Any], external_context: dict[str, Any] | None = None
    ) -> Any:
        simple = None if self.unrestricted else simple_expression(expression)
        if simple is not None:
            external = external_context or {}
            if all(name in context or name in external for name in simple.names):
                return simple.evaluate({**external, **context} if external else context)
        return self._run("eval", expression, context, external_context)["value"]

    def execute(
        self, script: str, context: dict[str, Any], external_context: dict[str, Any] | None = None
    ) -> bool:
        external = external_context or {}
        self.check_for_overwrite(context, external)
        data = self._run("exec", script, context, external)["data"]
        context.clear()
        context.update(data)
        return True

    def _run(
        self, op: str, source: str, context: Mapping[str, Any], external: Mapping[str, Any] | None
    ) -> dict[str, Any]:
        functions = dict(self.globals)
        values = {}
        for key, value in (external or {}).items():
            (functions if callable(value) else values)[key] = value
        request = {
            "op": op,
            "source": source,
            "data": context,
            "external": values,
            "functions": sorted(functions),
            "unrestricted": self.unrestricted,
        }
        try:
            frame = protocol.encode(request)
        except (TypeError, ValueError, protocol.ProtocolError) as exc:
            raise ScriptValueError(f"the task data cannot be handed to diagram code: {exc}") from None
        answer = self.pool.run(frame, functions)
        printed = answer.get("printed")
        if isinstance(printed, str) and printed:
            self.printed.append((self.element_id, printed[: policy.MAX_PRINTED + 20]))
        error = answer.get("error")
        if error is not None:
            raise _script_error(error if isinstance(error, dict) else {}, self.pool.limits.memory_mb)
        expected = "value" if op == "eval" else "data"
        if expected not in answer or (op == "exec" and not isinstance(answer["data"], dict)):
            raise ScriptValueError("the sandbox worker gave no result")
        return answer

    def check_for_overwrite(self, context: Mapping[str, Any], external_context: Mapping[str, Any]) -> None:
        # Same check as TaskDataEnvironment: a variable named like a function would hide it.
        overwrites = (set(self.globals) | set(external_context)).intersection(context)
        if overwrites:
            raise ValueError(
                "You have task data that overwrites a predefined function(s). Please change the "
                f"following variable or field name(s) to something else: {overwrites}"
            )


def _script_error(error: Mapping[str, Any], memory_mb: int) -> ScriptError:
    kind, name = error.get("kind"), str(error.get("type") or "Exception")
    message, line = str(error.get("message") or ""), error.get("line")
    line = line if isinstance(line, int) else None
    if kind == "rejected":
        return ScriptRejected(message)
    if kind == "limit":
        return ScriptLimitExceeded(
            f"diagram code used more than the memory limit of {memory_mb} MB", limit="memory", line=line
        )
    if kind == "value":
        where = error.get("where")
        what = f"variable '{where}'" if where else "the result"
        return ScriptValueError(f"{what} cannot be stored in task data ({name}: {message})", line=line)
    if name == "NameError" and _UNDEFINED_NAME.fullmatch(message):
        # Its own message, as Python words it: SpiffWorkflow reads the name out of it.
        return ScriptNameError(message, line=line)
    return ScriptRaised(f"{name}: {message}" if message else name, line=line)


class SandboxScriptEngine(PythonScriptEngine):
    environment: SandboxEnvironment

    def evaluate(self, task: Any, expression: str, external_context: dict[str, Any] | None = None) -> Any:
        self.environment.element_id = getattr(task.task_spec, "bpmn_id", None)
        try:
            return self.environment.evaluate(expression, task.data, external_context)
        except SandboxUnavailable:
            raise  # not the diagram's fault: the whole request is refused
        except SpiffWorkflowException as se:
            se.add_note(f"Error evaluating expression '{expression}'")
            raise
        except Exception as exc:
            message = f"Error evaluating expression '{expression}'"
            wte = WorkflowTaskException(message, task=task, exception=exc)
            if isinstance(exc, ScriptError):
                # SpiffWorkflow keeps only the class name of the error of an expression; keep the
                # reason (which rule, which limit) for the person reading the incident.
                wte.add_note(str(exc))
            raise wte from exc

    def execute(self, task: Any, script: str, external_context: dict[str, Any] | None = None) -> bool:
        self.environment.element_id = getattr(task.task_spec, "bpmn_id", None)
        try:
            return self.environment.execute(script, task.data, external_context or {})
        except SandboxUnavailable:
            raise
        except Exception as err:
            raise self.create_task_exec_exception(task, script, err) from err

    def create_task_exec_exception(self, task: Any, script: str, err: Exception) -> Exception:
        if not isinstance(err, ScriptError):
            return super().create_task_exec_exception(task, script, err)
        line = err.line or 0
        lines = script.splitlines()
        error_line = lines[line - 1] if 0 < line <= len(lines) else ""
        detail = err.describe() if isinstance(err, ScriptNameError) else str(err)
        wte = WorkflowTaskException(detail, task=task, exception=err, line_number=line, error_line=error_line)
        if line:
            wte.add_note(f"Python script error on line {line}: '{error_line.strip()}'")
        return wte


def make_script_engine(
    pool: WorkerPool, functions: Mapping[str, Callable[..., Any]] | None = None, *, unrestricted: bool = False
) -> SandboxScriptEngine:
    return SandboxScriptEngine(SandboxEnvironment(pool, functions, unrestricted=unrestricted))


def error_chain(exc: BaseException) -> Iterator[BaseException]:
    """An error, what it wraps (SpiffWorkflow keeps it in `exception`) and what caused it, in turn."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        wrapped = getattr(current, "exception", None)
        if isinstance(wrapped, BaseException):
            yield wrapped
        current = current.__cause__ or current.__context__


def sandbox_unavailable_in(exc: BaseException) -> SandboxUnavailable | None:
    """The SandboxUnavailable behind an error that SpiffWorkflow or a caller wrapped, if any."""
    return next((e for e in error_chain(exc) if isinstance(e, SandboxUnavailable)), None)


@lru_cache(maxsize=4096)
def _compile_check(source: str, mode: str) -> str | None:
    code, errors = policy.compile_code(source, mode)
    return None if code is not None else policy.reasons(errors)


def check_expression(source: str) -> str | None:
    """None if `source` compiles as a sandboxed expression, else the reason (with line).
    Compiling runs nothing: deployments check code here, in the server."""
    return _compile_check(source.strip(), "eval")


def check_script(source: str) -> str | None:
    """None if `source` compiles as a sandboxed script, else the reason (with line)."""
    return _compile_check(source, "exec")
