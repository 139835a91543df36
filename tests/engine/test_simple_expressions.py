"""The in-process fast path: exactly names, literals, comparisons and boolean operators pass."""

from __future__ import annotations

import ast

import pytest

from app.engine.sandbox_pool import Limits, shared_pool
from app.engine.scripting import SandboxEnvironment
from app.engine.simple_expressions import ALLOWED_NODES, is_simple, simple_expression

SIMPLE = [
    ("decision == 'agree'", {"decision": "agree"}, True),
    ("3 > 2 and not flag or x in (1, 2)", {"flag": True, "x": 2}, True),
    ("a is None", {"a": None}, True),
    ("x not in [1, 2] and y >= -1.5", {"x": 3, "y": 0}, True),
    ("name != 'x' < 'y'", {"name": "a"}, True),
    ("x in {1, 2}", {"x": 5}, False),
    ("True", {}, True),
]


@pytest.mark.parametrize(("source", "data", "expected"), SIMPLE)
def test_simple_expressions_evaluate_like_python(source: str, data: dict, expected: object) -> None:
    simple = simple_expression(source)
    assert simple is not None
    assert simple.evaluate(data) == expected == eval(source, {}, dict(data))  # noqa: S307


NOT_SIMPLE = [
    "f(x)",  # Call
    "x.y",  # Attribute
    "x[0]",  # Subscript
    "x[1:2]",  # Slice
    "x + 1",  # BinOp: every operator
    "x - 1",
    "x * 2",
    "x / 2",
    "x // 2",
    "x % 2",
    "x ** 2",
    "x << 2",
    "x >> 2",
    "x | 2",
    "x & 2",
    "x ^ 2",
    "x @ y",
    "~x",  # Invert
    "-x",  # USub of a name (only of a literal number)
    "+1",  # UAdd
    "-'a'",  # USub of a string literal
    "f'{x}'",  # JoinedStr, FormattedValue
    "lambda: 1",  # Lambda
    "x if y else z",  # IfExp
    "[i for i in x]",  # ListComp
    "{i for i in x}",  # SetComp
    "{i: i for i in x}",  # DictComp
    "(i for i in x)",  # GeneratorExp
    "{'a': 1}",  # Dict
    "(y := 1)",  # NamedExpr
    "[*x]",  # Starred
    "b'x'",  # bytes literal
    "1j",  # complex literal
    "...",  # Ellipsis literal
    "__builtins__",  # names starting with '_'
    "_x == 1",
    "x == 1; import os",  # not an expression
    "await x",
    "x" * 3000,  # too long to be worth checking
]


@pytest.mark.parametrize("source", NOT_SIMPLE)
def test_everything_else_goes_to_a_worker(source: str) -> None:
    assert simple_expression(source) is None


def test_the_allowed_node_types_are_exactly_these() -> None:
    # Adding a node type to the fast path must be a decision: this list changes with it.
    assert {cls.__name__ for cls in ALLOWED_NODES} == {
        "Expression", "Constant", "Name", "Load", "Compare", "Eq", "NotEq", "Lt", "LtE", "Gt", "GtE",
        "In", "NotIn", "Is", "IsNot", "BoolOp", "And", "Or", "UnaryOp", "Not", "USub", "Tuple", "List",
        "Set",
    }  # fmt: skip


def test_no_other_node_type_passes() -> None:
    # Every expression node type Python has, each wrapped so that only it is new.
    others = [
        cls
        for cls in vars(ast).values()
        if isinstance(cls, type) and issubclass(cls, ast.AST) and cls not in ALLOWED_NODES
    ]
    for cls in others:
        try:
            node = cls()
        except TypeError:
            continue
        if type(node) in ALLOWED_NODES:
            continue  # a deprecated alias (ast.Num is made as a Constant)
        compare = ast.Compare(left=ast.Name("x", ast.Load()), ops=[ast.Eq()], comparators=[node])
        tree = ast.Expression(body=compare)
        assert not is_simple(tree), cls.__name__


def test_the_environment_uses_the_fast_path_only_when_every_name_is_data() -> None:
    env = SandboxEnvironment(shared_pool(Limits()), {"today": lambda: "2026-01-01"})
    runs = []
    original = env._run
    env._run = lambda *args: runs.append(args) or original(*args)  # type: ignore[method-assign]
    assert env.evaluate("decision == 'agree'", {"decision": "agree"}) is True
    assert runs == []
    # A function's name or a missing variable: the worker answers, as it would for any code.
    assert env.evaluate("today == 1", {}) is False
    with pytest.raises(NameError):
        env.evaluate("missing == 1", {})
    assert len(runs) == 2


def test_the_fast_path_has_no_builtins() -> None:
    simple = simple_expression("len == 1")
    assert simple is not None
    with pytest.raises(NameError):
        simple.evaluate({})


def test_sources_up_to_2000_characters_are_checked() -> None:
    at_limit = "v" * 1995 + " == 1"
    assert len(at_limit) == 2000 and simple_expression(at_limit) is not None
    assert simple_expression("v" + at_limit) is None
