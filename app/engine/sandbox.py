"""Scripts, conditions and timer expressions in diagrams are untrusted code.

SpiffWorkflow runs them with plain ``eval``/``exec``. Here they are compiled by RestrictedPython
(no names or attributes starting with ``_``, guarded item/attribute access, no imports) and run
with a CPU-time limit enforced by a trace function, because requests run in threads, where
signals and interval timers cannot interrupt code.
"""

from __future__ import annotations

import ast
import operator
import sys
import time
import types
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any

from RestrictedPython import compile_restricted_eval, compile_restricted_exec, safe_builtins
from RestrictedPython.Eval import default_guarded_getitem, default_guarded_getiter
from RestrictedPython.Guards import (
    full_write_guard,
    guarded_iter_unpack_sequence,
    guarded_unpack_sequence,
    safer_getattr_raise,
)
from RestrictedPython.transformer import IOPERATOR_TO_STR, RestrictingNodeTransformer
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.script_engine.python_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment

# SpiffWorkflow finds the failing line of a script by this file name in the traceback.
_FILENAME = "<string>"
_MAX_RANGE = 100_000
_CACHE_SIZE = 4096
_CHECK_EVERY = 64


class ScriptError(Exception):
    """Diagram code was refused or stopped. Deliberately not a SyntaxError: SpiffWorkflow's error
    formatter crashes on a SyntaxError that has no line number."""


class ScriptRejected(ScriptError):
    """The code does not compile under the sandbox's rules."""


class ScriptTimeout(ScriptError):
    """The code used more CPU time than allowed."""


class ScriptTooLarge(ScriptError):
    """One operation would build a value too large to compute (it would run in C, untimed)."""


class _Policy(RestrictingNodeTransformer):
    def visit_Import(self, node: ast.Import | ast.ImportFrom) -> ast.AST:
        self.error(node, "import statements are not allowed; use the functions the server provides.")
        return node

    visit_ImportFrom = visit_Import  # type: ignore[assignment]

    def visit_Name(self, node: ast.Name) -> ast.AST:
        # RestrictedPython would route print to a collector we do not provide; say so up front.
        if node.id in ("print", "printed"):
            self.error(node, f"{node.id} is not available in diagram code; store values in variables.")
            return node
        return super().visit_Name(node)

    def visit_Try(self, node: ast.Try) -> ast.AST:
        # A trace function can only interrupt code by raising; an except clause (or a context
        # manager's exit) would swallow the time limit, and the interpreter turns tracing off
        # after the first raise.
        self.error(node, "try statements are not allowed in diagram code.")
        return node

    def visit_With(self, node: ast.With) -> ast.AST:
        self.error(node, "with statements are not allowed in diagram code.")
        return node

    def visit_BinOp(self, node: ast.BinOp) -> ast.AST:
        # 2 ** 10 ** 9 or "a" * 10 ** 10 is one C call the time limit cannot interrupt: route
        # the operators that can build huge values through a size check.
        node = super().visit_BinOp(node)
        symbol = _SIZED_OPERATORS.get(type(node.op)) if isinstance(node, ast.BinOp) else None
        if symbol is None:
            return node
        call = ast.Call(
            func=ast.Name("_sized_binop_", ast.Load()),
            args=[ast.Constant(symbol), node.left, node.right],
            keywords=[],
        )
        return ast.fix_missing_locations(ast.copy_location(call, node))

    def visit_ClassDef(self, node: ast.ClassDef) -> ast.AST:
        self.error(node, "class definitions are not allowed in diagram code.")
        return node

    def visit_AugAssign(self, node: ast.AugAssign) -> ast.AST:
        target = node.target
        if not isinstance(target, ast.Subscript):
            return super().visit_AugAssign(node)
        if any(isinstance(n, ast.Slice) for n in ast.walk(target.slice)):
            self.error(node, "augmented assignment of slices is not allowed.")
            return node
        # RestrictedPython refuses d[k] += v; counting votes in a dict needs it, so rewrite it as
        # one guarded read-modify-write call that evaluates d and k once.
        op = ast.Constant(IOPERATOR_TO_STR[type(node.op)])
        args = [self.visit(target.value), self.visit(target.slice), op, self.visit(node.value)]
        call = ast.Call(func=ast.Name("_inplace_item_", ast.Load()), args=args, keywords=[])
        return ast.fix_missing_locations(ast.copy_location(ast.Expr(call), node))


_INPLACE_OPS: dict[str, Callable[[Any, Any], Any]] = {
    "+=": operator.iadd, "-=": operator.isub, "*=": operator.imul, "/=": operator.itruediv,
    "//=": operator.ifloordiv, "%=": operator.imod, "**=": operator.ipow, "<<=": operator.ilshift,
    ">>=": operator.irshift, "&=": operator.iand, "|=": operator.ior, "^=": operator.ixor,
}  # fmt: skip


_SIZED_OPERATORS: dict[type[ast.operator], str] = {ast.Pow: "**", ast.Mult: "*", ast.LShift: "<<"}
_BINARY_OPS: dict[str, Callable[[Any, Any], Any]] = {
    "**": operator.pow, "*": operator.mul, "<<": operator.lshift,
}  # fmt: skip
_MAX_BITS = 1_000_000  # about 300,000 decimal digits
_MAX_ITEMS = 1_000_000


def _check_size(symbol: str, left: Any, right: Any) -> None:
    too_large = False
    if symbol == "**" and isinstance(left, int) and isinstance(right, int):
        too_large = right > 0 and abs(left) > 1 and abs(left).bit_length() * right > _MAX_BITS
    elif symbol == "<<" and isinstance(left, int) and isinstance(right, int):
        too_large = left != 0 and right > _MAX_BITS
    elif symbol == "*":
        for sequence, count in ((left, right), (right, left)):
            if isinstance(count, int) and isinstance(sequence, (str, bytes, list, tuple)):
                too_large = too_large or len(sequence) * count > _MAX_ITEMS
        if isinstance(left, int) and isinstance(right, int):
            too_large = abs(left).bit_length() + abs(right).bit_length() > _MAX_BITS
    if too_large:
        raise ScriptTooLarge(f"the result of '{symbol}' would be too large to compute")


def _sized_binop(symbol: str, left: Any, right: Any) -> Any:
    _check_size(symbol, left, right)
    return _BINARY_OPS[symbol](left, right)


def _sized_pow(base: Any, exponent: Any, modulus: Any = None) -> Any:
    if modulus is None:
        _check_size("**", base, exponent)
        return pow(base, exponent)
    return pow(base, exponent, modulus)


def _inplacevar(op: str, target: Any, value: Any) -> Any:
    fn = _INPLACE_OPS.get(op)
    if fn is None:
        raise TypeError(f"operator {op} is not allowed")
    if op in ("*=", "**=", "<<="):
        _check_size(op[:-1], target, value)
    return fn(target, value)


def _inplace_item(obj: Any, key: Any, op: str, value: Any) -> None:
    full_write_guard(obj)[key] = _inplacevar(op, default_guarded_getitem(obj, key), value)


def _apply(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    return func(*args, **kwargs)


def _bounded_range(*args: int) -> range:
    # sum(range(10**12)) runs in C, where the trace-based time limit cannot interrupt it.
    r = range(*args)
    if len(r) > _MAX_RANGE:
        raise ValueError(f"range() of more than {_MAX_RANGE} items is not allowed")
    return r


_BUILTINS: dict[str, Any] = dict(safe_builtins)
_BUILTINS.pop("__build_class__", None)  # class definitions are refused anyway
_BUILTINS.update(
    abs=abs, all=all, any=any, bool=bool, dict=dict, enumerate=enumerate, filter=filter, float=float,
    int=int, isinstance=isinstance, len=len, list=list, map=map, max=max, min=min, range=_bounded_range,
    reversed=reversed, round=round, set=set, sorted=sorted, str=str, sum=sum, tuple=tuple, zip=zip,
    pow=_sized_pow,
)  # fmt: skip

# safer_getattr_raise rather than safer_getattr: the latter returns None for a missing attribute,
# which turns a typo into a confusing error much later.
_GUARDS: dict[str, Any] = {
    "_getattr_": safer_getattr_raise,
    "_getitem_": default_guarded_getitem,
    "_getiter_": default_guarded_getiter,
    "_iter_unpack_sequence_": guarded_iter_unpack_sequence,
    "_unpack_sequence_": guarded_unpack_sequence,
    "_write_": full_write_guard,
    "_inplacevar_": _inplacevar,
    "_inplace_item_": _inplace_item,
    "_apply_": _apply,
    "_sized_binop_": _sized_binop,
}


@lru_cache(maxsize=_CACHE_SIZE)
def _compile(source: str, mode: str) -> tuple[types.CodeType | None, tuple[str, ...]]:
    # Conditions are evaluated on every engine step: cache by source text (rejections too).
    compiler = compile_restricted_eval if mode == "eval" else compile_restricted_exec
    try:
        result = compiler(source, filename=_FILENAME, policy=_Policy)
    except (ValueError, RecursionError) as err:  # NUL bytes, absurd nesting
        return None, (f"{type(err).__name__}: {err}",)
    return result.code, tuple(result.errors)


def _reasons(errors: tuple[str, ...]) -> str:
    # SpiffWorkflow appends ". " to messages: drop RestrictedPython's final dots.
    return "; ".join(e.rstrip(".") for e in errors) or "code rejected"


def _compiled(source: str, mode: str) -> types.CodeType:
    code, errors = _compile(source, mode)
    if code is None:
        raise ScriptRejected(_reasons(errors))
    return code


def _run(code: types.CodeType, namespace: dict[str, Any], cpu_seconds: float) -> Any:
    deadline = time.thread_time() + cpu_seconds
    events = 0

    def on_event(frame: types.FrameType, event: str, arg: Any) -> Any:
        nonlocal events
        events += 1
        # Reading the thread's CPU clock on every opcode would double the cost of tracing.
        if events % _CHECK_EVERY == 0 and time.thread_time() > deadline:
            raise ScriptTimeout(f"diagram code used more than {cpu_seconds:g} s of CPU time")
        return on_event

    def on_call(frame: types.FrameType, event: str, arg: Any) -> Any:
        # Trace only the diagram's own frames: library code called from it runs untraced.
        if frame.f_code.co_filename != _FILENAME:
            return None
        # Per-opcode, not per-line: `while True: pass` compiles to one instruction jumping to
        # itself, which never produces a line event.
        frame.f_trace_opcodes = True
        frame.f_trace_lines = False
        return on_event(frame, event, arg)

    previous = sys.gettrace()
    sys.settrace(on_call)
    try:
        return eval(code, namespace)
    finally:
        sys.settrace(previous)


class SandboxEnvironment(BasePythonScriptEngineEnvironment):
    """Same contract as SpiffWorkflow's TaskDataEnvironment, under RestrictedPython and a CPU limit."""

    def __init__(
        self, functions: Mapping[str, Callable[..., Any]] | None = None, cpu_seconds: float = 1.0
    ) -> None:
        exposed = dict(functions or {})
        for name, fn in exposed.items():
            # A module hands out everything it imported (os, sys...) as attributes.
            if isinstance(fn, types.ModuleType) or not callable(fn):
                raise TypeError(f"{name!r}: only functions can be exposed to diagram code")
            if name.startswith("_"):
                raise ValueError(f"{name!r}: diagram code cannot call names starting with '_'")
        if cpu_seconds <= 0:
            raise ValueError("cpu_seconds must be positive")
        super().__init__(exposed)
        self.cpu_seconds = cpu_seconds

    def evaluate(
        self, expression: str, context: dict[str, Any], external_context: dict[str, Any] | None = None
    ) -> Any:
        # eval() forgives surrounding blanks and conditions often carry newlines from the XML.
        code = _compiled(expression.strip(), "eval")
        # Guards last: task data (from forms) must not be able to replace them.
        namespace = {**self.globals, **(external_context or {}), **context}
        namespace.update({**_GUARDS, "__builtins__": _BUILTINS})
        return _run(code, namespace, self.cpu_seconds)

    def execute(
        self, script: str, context: dict[str, Any], external_context: dict[str, Any] | None = None
    ) -> bool:
        external = external_context or {}
        self.check_for_overwrite(context, external)
        # Compile before touching context so that rejected code leaves the task data as it was.
        code = _compiled(script, "exec")
        context.update({**self.globals, **external, **_GUARDS, "__builtins__": _BUILTINS})
        try:
            _run(code, context, self.cpu_seconds)
        finally:
            self._remove_globals_and_functions_from_context(context, external)
        return True

    def _remove_globals_and_functions_from_context(
        self, context: dict[str, Any], external_context: Mapping[str, Any] | None = None
    ) -> None:
        # Task data must stay plain JSON-able values: drop whatever the run added besides data.
        added = {*_GUARDS, *self.globals, *(external_context or {}), "__builtins__"}
        for key in list(context):
            if key in added or callable(context[key]):
                context.pop(key)

    def check_for_overwrite(self, context: Mapping[str, Any], external_context: Mapping[str, Any]) -> None:
        # Same check as TaskDataEnvironment: a variable named like a function would hide it.
        overwrites = (set(self.globals) | set(external_context)).intersection(context)
        if overwrites:
            raise ValueError(
                "You have task data that overwrites a predefined function(s). Please change the "
                f"following variable or field name(s) to something else: {overwrites}"
            )


class SandboxScriptEngine(PythonScriptEngine):
    environment: SandboxEnvironment

    def __init__(self, environment: SandboxEnvironment | None = None) -> None:
        super().__init__(environment or SandboxEnvironment())

    def evaluate(self, task: Any, expression: str, external_context: dict[str, Any] | None = None) -> Any:
        try:
            return super().evaluate(task, expression, external_context)
        except WorkflowTaskException as wte:
            # SpiffWorkflow keeps only the class name of the error of an expression; keep the
            # reason (which rule, which limit) for the person reading the incident.
            cause = wte.__context__
            if isinstance(cause, ScriptError):
                wte.add_note(str(cause))
                raise wte from cause
            raise


def make_script_engine(
    functions: Mapping[str, Callable[..., Any]] | None = None, cpu_seconds: float = 1.0
) -> SandboxScriptEngine:
    return SandboxScriptEngine(SandboxEnvironment(functions, cpu_seconds))


def check_expression(source: str) -> str | None:
    """None if ``source`` compiles as a sandboxed expression, else the reason (with line)."""
    code, errors = _compile(source.strip(), "eval")
    return None if code is not None else _reasons(errors)


def check_script(source: str) -> str | None:
    """None if ``source`` compiles as a sandboxed script, else the reason (with line)."""
    code, errors = _compile(source, "exec")
    return None if code is not None else _reasons(errors)
