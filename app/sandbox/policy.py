"""The first layer: diagram code compiled by RestrictedPython, with guarded builtins.

It gives clear messages at deployment (no imports, no names or attributes starting with '_',
no classes) and refuses, with a message, the single operations that would build a huge value.
The design assumes this layer will be broken: the worker's operating-system limits and lock-down
(`lockdown`) hold without it.
"""

from __future__ import annotations

import ast
import operator
import types
from collections.abc import Callable
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

# SpiffWorkflow and the worker find the failing line of a script by this file name.
FILENAME = "<string>"
MAX_RANGE = 100_000
MAX_BITS = 1_000_000  # about 300,000 decimal digits
MAX_ITEMS = 1_000_000
MAX_PRINTED = 10_000  # characters of print() output kept from one evaluation


class ScriptRejected(Exception):
    """The code does not compile under the sandbox's rules. Deliberately not a SyntaxError:
    SpiffWorkflow's error formatter crashes on a SyntaxError that has no line number."""


class ScriptTooLarge(Exception):
    """One operation would build a value too large to compute."""


class _Policy(RestrictingNodeTransformer):
    def visit_Import(self, node: ast.Import | ast.ImportFrom) -> ast.AST:
        self.error(node, "import statements are not allowed; use the functions the server provides.")
        return node

    visit_ImportFrom = visit_Import  # type: ignore[assignment]

    def visit_Name(self, node: ast.Name) -> ast.AST:
        # print() writes to the instance's log (the worker's collector); reading back what was
        # printed is RestrictedPython's own idea, of no use here.
        if node.id == "printed":
            self.error(node, "printed is not available in diagram code; store values in variables.")
            return node
        return super().visit_Name(node)

    def visit_With(self, node: ast.With) -> ast.AST:
        self.error(node, "with statements are not allowed in diagram code.")
        return node

    def visit_ClassDef(self, node: ast.ClassDef) -> ast.AST:
        self.error(node, "class definitions are not allowed in diagram code.")
        return node

    def visit_BinOp(self, node: ast.BinOp) -> ast.AST:
        # 2 ** 10 ** 9 or "a" * 10 ** 10: say why at once rather than at the memory limit.
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


def check_size(symbol: str, left: Any, right: Any) -> None:
    """Raise ScriptTooLarge when `left symbol right` would build a value over the limits."""
    too_large = False
    if symbol == "**" and isinstance(left, int) and isinstance(right, int):
        too_large = right > 0 and abs(left) > 1 and abs(left).bit_length() * right > MAX_BITS
    elif symbol == "<<" and isinstance(left, int) and isinstance(right, int):
        too_large = left != 0 and right > MAX_BITS
    elif symbol == "*":
        for sequence, count in ((left, right), (right, left)):
            if isinstance(count, int) and isinstance(sequence, (str, bytes, list, tuple)):
                too_large = too_large or len(sequence) * count > MAX_ITEMS
        if isinstance(left, int) and isinstance(right, int):
            too_large = abs(left).bit_length() + abs(right).bit_length() > MAX_BITS
    if too_large:
        raise ScriptTooLarge(f"the result of '{symbol}' would be too large to compute")


def _sized_binop(symbol: str, left: Any, right: Any) -> Any:
    check_size(symbol, left, right)
    return _BINARY_OPS[symbol](left, right)


def _sized_pow(base: Any, exponent: Any, modulus: Any = None) -> Any:
    if modulus is None:
        check_size("**", base, exponent)
        return pow(base, exponent)
    # Modular exponentiation stays small; its time is the worker's CPU limit's business.
    return pow(base, exponent, modulus)


def _inplacevar(op: str, target: Any, value: Any) -> Any:
    fn = _INPLACE_OPS.get(op)
    if fn is None:
        raise TypeError(f"operator {op} is not allowed")
    if op in ("*=", "**=", "<<="):
        check_size(op[:-1], target, value)
    return fn(target, value)


def _inplace_item(obj: Any, key: Any, op: str, value: Any) -> None:
    full_write_guard(obj)[key] = _inplacevar(op, default_guarded_getitem(obj, key), value)


def _apply(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    return func(*args, **kwargs)


def _bounded_range(*args: int) -> range:
    r = range(*args)
    if len(r) > MAX_RANGE:
        raise ValueError(f"range() of more than {MAX_RANGE} items is not allowed")
    return r


BUILTINS: dict[str, Any] = dict(safe_builtins)
BUILTINS.pop("__build_class__", None)  # class definitions are refused anyway
BUILTINS.update(
    abs=abs, all=all, any=any, bool=bool, dict=dict, enumerate=enumerate, filter=filter, float=float,
    int=int, isinstance=isinstance, len=len, list=list, map=map, max=max, min=min, range=_bounded_range,
    reversed=reversed, round=round, set=set, sorted=sorted, str=str, sum=sum, tuple=tuple, zip=zip,
    pow=_sized_pow,
)  # fmt: skip

# safer_getattr_raise rather than safer_getattr: the latter returns None for a missing attribute,
# which turns a typo into a confusing error much later.
GUARDS: dict[str, Any] = {
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


class PrintLog:
    """Where print() of one evaluation writes: RestrictedPython calls `_print_(_getattr_)` once per
    module and function body, and `_call_print` for each print(). Output beyond MAX_PRINTED
    characters is dropped, and the log says so."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.size = 0
        self.truncated = False

    def __call__(self, _getattr: Any = None) -> PrintLog:
        return self

    def _call_print(self, *objects: Any, sep: Any = " ", end: Any = "\n", **_ignored: Any) -> None:
        text = (sep if isinstance(sep, str) else " ").join(str(o) for o in objects)
        text += end if isinstance(end, str) else "\n"
        room = MAX_PRINTED - self.size
        if len(text) > room:
            text, self.truncated = text[: max(room, 0)], True
        self.parts.append(text)
        self.size += len(text)

    def text(self) -> str:
        return "".join(self.parts) + ("[output cut]\n" if self.truncated else "")


def compile_code(source: str, mode: str) -> tuple[types.CodeType | None, tuple[str, ...]]:
    """The restricted code of `source` ('eval' or 'exec' mode), or None and the reasons."""
    if "\x00" in source:
        return None, ("the code contains a NUL character",)
    compiler = compile_restricted_eval if mode == "eval" else compile_restricted_exec
    try:
        result = compiler(source, filename=FILENAME, policy=_Policy)
    except (ValueError, RecursionError, MemoryError) as err:  # absurd nesting
        return None, (f"the code is nested too deeply to compile ({type(err).__name__})",)
    return result.code, tuple(result.errors)


def reasons(errors: tuple[str, ...]) -> str:
    # SpiffWorkflow appends ". " to messages: drop RestrictedPython's final dots.
    return "; ".join(e.rstrip(".") for e in errors) or "code rejected"
