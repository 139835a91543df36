"""The only diagram code the server evaluates itself: names, literals, comparisons, `and`/`or`/`not`.

Gateway conditions such as `chairman_decision == "agree"` are most of what a procedure
evaluates. One of these cannot call anything, read an attribute, format, or build a value larger
than what it compares, so it costs no more than its data and needs no worker: after the strict
check below it runs here, with no builtins, over the task data. Everything else goes to a
sandbox worker.
"""

from __future__ import annotations

import ast
import types
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

# Exactly these node types; a test checks that nothing else passes.
ALLOWED_NODES: frozenset[type[ast.AST]] = frozenset(
    {
        ast.Expression,
        ast.Constant,
        ast.Name,
        ast.Load,
        ast.Compare,
        ast.Eq,
        ast.NotEq,
        ast.Lt,
        ast.LtE,
        ast.Gt,
        ast.GtE,
        ast.In,
        ast.NotIn,
        ast.Is,
        ast.IsNot,
        ast.BoolOp,
        ast.And,
        ast.Or,
        ast.UnaryOp,
        ast.Not,
        ast.USub,
        ast.Tuple,
        ast.List,
        ast.Set,
    }
)
_CONSTANT_TYPES = (str, int, float, bool, type(None))
_MAX_SOURCE = 2000
_NO_BUILTINS: dict[str, Any] = {"__builtins__": {}}


class SimpleExpression:
    """A checked expression and the variable names it reads."""

    __slots__ = ("code", "names")

    def __init__(self, code: types.CodeType, names: frozenset[str]) -> None:
        self.code = code
        self.names = names

    def evaluate(self, data: Mapping[str, Any]) -> Any:
        return eval(self.code, _NO_BUILTINS, data)  # noqa: S307 - see is_simple


def is_simple(tree: ast.AST) -> bool:
    for node in ast.walk(tree):
        if type(node) not in ALLOWED_NODES:
            return False
        if isinstance(node, ast.Name) and node.id.startswith("_"):
            return False
        if isinstance(node, ast.Constant) and type(node.value) not in _CONSTANT_TYPES:
            return False
        # Negation of a literal number only: -x of a huge integer from the data is work.
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            operand = node.operand
            if not (isinstance(operand, ast.Constant) and type(operand.value) in (int, float)):
                return False
    return True


@lru_cache(maxsize=4096)
def simple_expression(source: str) -> SimpleExpression | None:
    """The checked expression, or None when `source` needs a worker."""
    text = source.strip()
    if len(text) > _MAX_SOURCE:
        return None
    try:
        tree = ast.parse(text, mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    if not is_simple(tree):
        return None
    names = frozenset(node.id for node in ast.walk(tree) if isinstance(node, ast.Name))
    return SimpleExpression(compile(tree, "<condition>", "eval"), names)
