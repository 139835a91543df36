from __future__ import annotations

import copy
import re
import time
from typing import Any
from xml.sax.saxutils import escape

import pytest
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from SpiffWorkflow.util.task import TaskState

from app.engine.sandbox_pool import Limits, shared_pool
from app.engine.script_errors import (
    ScriptError,
    ScriptLimitExceeded,
    ScriptRaised,
    ScriptRejected,
    ScriptValueError,
)
from app.engine.scripting import (
    SandboxEnvironment,
    SandboxScriptEngine,
    ScriptNameError,
    check_expression,
    check_script,
    make_script_engine,
)
from app.sandbox import policy

PROCESS = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" id="defs" targetNamespace="urn:test">
  <bpmn:process id="sandboxed" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:scriptTask id="script" name="Script">
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
      <bpmn:script>{script}</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:exclusiveGateway id="gateway" default="f_no">
      <bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f_yes</bpmn:outgoing><bpmn:outgoing>f_no</bpmn:outgoing>
    </bpmn:exclusiveGateway>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="script" />
    <bpmn:sequenceFlow id="f2" sourceRef="script" targetRef="gateway" />
    <bpmn:sequenceFlow id="f_yes" sourceRef="gateway" targetRef="end_yes">
      <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">{condition}</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f_no" sourceRef="gateway" targetRef="end_no" />
    <bpmn:endEvent id="end_yes"><bpmn:incoming>f_yes</bpmn:incoming></bpmn:endEvent>
    <bpmn:endEvent id="end_no"><bpmn:incoming>f_no</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>
"""

ESCAPES = [
    "x = ().__class__.__base__.__subclasses__()",
    "x = __import__('os')",
    "import os",
    "from os import path",
    "x = open('/etc/passwd').read()",
    "x = getattr(x, '__class__')",
    "x = str.format('{0.__class__}', x)",
    "x = [c for c in ().__class__.__mro__]",
    "class C:\n    pass",
    "with x:\n    pass",
]


def _data() -> dict[str, Any]:
    return {"x": 3, "votes_for": 2, "total": 3, "d": {"n": 0}, "items": [3, 1, 2]}


@pytest.fixture(scope="module")
def engine() -> SandboxScriptEngine:
    # One engine for the whole module: a failure must leave it usable for the next test.
    return make_script_engine(shared_pool(Limits()), {"double": lambda v: 2 * v})


@pytest.fixture
def env(engine: SandboxScriptEngine) -> SandboxEnvironment:
    return engine.environment


# A short CPU limit: the server's watch of the worker's CPU clock stops code at 0.3 s.
QUICK = Limits(cpu_seconds=0.2)


@pytest.fixture
def quick() -> SandboxEnvironment:
    return SandboxEnvironment(shared_pool(QUICK), {"double": lambda v: 2 * v})


def run_workflow(engine: SandboxScriptEngine, script: str = "pass", condition: str = "True") -> BpmnWorkflow:
    parser = SpiffBpmnParser()
    xml = PROCESS.format(script=escape(script), condition=escape(condition))
    parser.add_bpmn_str(xml.encode(), "sandboxed.bpmn")
    wf = BpmnWorkflow(parser.get_spec("sandboxed"), script_engine=engine)
    wf.get_tasks(spec_name="start")[0].data.update(_data())
    wf.do_engine_steps()
    return wf


def end_data(wf: BpmnWorkflow) -> tuple[str, dict[str, Any]]:
    assert wf.is_completed()
    done = wf.get_tasks(state=TaskState.COMPLETED)
    (end,) = [t for t in done if t.task_spec.bpmn_id in ("end_yes", "end_no")]
    return end.task_spec.bpmn_id, end.data


@pytest.mark.parametrize("script", ESCAPES)
def test_escape_fails_directly_without_effect(env: SandboxEnvironment, script: str) -> None:
    context = _data()
    before = copy.deepcopy(context)
    with pytest.raises(ScriptError):
        env.execute(script, context)
    assert context == before


@pytest.mark.parametrize(
    "expression",
    [
        "().__class__.__base__.__subclasses__()",
        "__import__('os')",
        "open('/etc/passwd')",
        "getattr(x, '__class__')",
        "x.__class__",
        "eval('1')",
    ],
)
def test_escape_in_expression_fails(env: SandboxEnvironment, expression: str) -> None:
    with pytest.raises(ScriptError):
        env.evaluate(expression, _data())


@pytest.mark.parametrize("script", ESCAPES)
def test_escape_fails_inside_workflow(engine: SandboxScriptEngine, script: str) -> None:
    with pytest.raises(WorkflowTaskException) as info:
        run_workflow(engine, script)
    assert info.value.task.task_spec.bpmn_id == "script"
    assert info.value.task.state == TaskState.ERROR
    assert info.value.error_type in ("ScriptRejected", "ScriptNameError", "ScriptRaised")
    # The same engine still runs the next workflow.
    assert end_data(run_workflow(engine, "x = double(x)", "x == 6")) == ("end_yes", {**_data(), "x": 6})


def test_rejection_explains_why(env: SandboxEnvironment) -> None:
    with pytest.raises(ScriptRejected, match='Line 1: "__import__" is an invalid variable name'):
        env.evaluate("__import__('os')", {})
    with pytest.raises(ScriptRejected, match="Line 2: import statements are not allowed"):
        env.execute("x = 1\nimport os", {})
    assert not issubclass(ScriptRejected, SyntaxError)


def test_infinite_loop_is_stopped_by_the_cpu_limit(quick: SandboxEnvironment) -> None:
    context = _data()
    started = time.monotonic()
    with pytest.raises(ScriptLimitExceeded, match="the CPU limit of 0.2 s") as info:
        quick.execute("while True: pass", context)
    assert info.value.limit == "cpu"
    assert time.monotonic() - started < 5.0
    assert context == _data()
    assert quick.evaluate("x + 1", context) == 4  # a new worker serves the next evaluation


def test_limits_hold_where_the_interpreter_cannot_interrupt(quick: SandboxEnvironment) -> None:
    env = quick
    # One C-level call: the old in-process trace never interrupted it; the kernel does.
    with pytest.raises(ScriptLimitExceeded) as info:
        env.evaluate("pow(3, 10 ** 200000, 10 ** 200000 + 1)", {})
    assert info.value.limit == "cpu"
    # A generator finalised in the middle of a loop: the old trace function was dropped by it.
    script = (
        "def gen():\n    try:\n        yield 1\n    finally:\n        x = 1\n"
        "while True:\n    for v in gen():\n        break"
    )
    with pytest.raises(ScriptLimitExceeded):
        env.execute(script, {})


@pytest.mark.parametrize(
    "script",
    [
        "x = '%*s' % (200000000, 'a')",
        "x = f'{1:>200000000}'",
        "x = 'a'.ljust(300000000)",
        "x = '-'.join(['abcdefgh'] * 40000000)",
        "x = [1] * 100000\nwhile True:\n    x = x + x",
    ],
)
def test_memory_is_bounded_by_the_address_space_limit(script: str) -> None:
    env = SandboxEnvironment(shared_pool(Limits(memory_mb=128)))
    with pytest.raises((ScriptLimitExceeded, ScriptRaised)) as info:
        env.execute(script, {})
    if isinstance(info.value, ScriptLimitExceeded):
        assert info.value.limit == "memory"
    else:  # refused by the first layer's size checks before it began
        assert "too large" in str(info.value)
    assert env.evaluate("1 + 1", {}) == 2


def test_wall_clock_deadline_stops_code_waiting_on_the_server() -> None:
    calls: list[float] = []

    def slow(seconds: float) -> int:
        calls.append(seconds)
        time.sleep(seconds)
        return 1

    env = SandboxEnvironment(shared_pool(Limits(wall_seconds=0.5)), {"slow": slow})
    started = time.monotonic()
    with pytest.raises(ScriptLimitExceeded) as info:
        env.execute("x = 0\nwhile True:\n    x += slow(0.2)", {})
    assert info.value.limit == "time"
    assert time.monotonic() - started < 3.0
    assert len(calls) >= 2


@pytest.mark.parametrize(
    ("script", "name"),
    [
        ("raise SystemExit(3)", "SystemExit"),
        ("raise KeyboardInterrupt()", "KeyboardInterrupt"),
        ("raise GeneratorExit()", "GeneratorExit"),
        ("x = 1 / 0", "ZeroDivisionError"),
    ],
)
def test_every_base_exception_is_an_error_of_the_script(
    env: SandboxEnvironment, script: str, name: str
) -> None:
    context = _data()
    with pytest.raises(ScriptRaised, match=name) as info:
        env.execute(script, context)
    assert info.value.line == 1
    assert context == _data()


@pytest.mark.parametrize(
    ("script", "variable"),
    [
        ("g = (i for i in [1])", "g"),
        ("e = ValueError('x')", "e"),
        ("n = 10 ** 5000", "n"),
        ("f = float('nan')", "f"),
        ("c = []\nc.append(c)", "c"),
    ],
)
def test_a_value_that_cannot_be_stored_is_an_error_naming_it(
    env: SandboxEnvironment, script: str, variable: str
) -> None:
    context = _data()
    with pytest.raises(ScriptValueError, match=f"variable '{variable}'"):
        env.execute(script, context)
    assert context == _data()


def test_values_are_stored_as_json_would_hold_them(env: SandboxEnvironment) -> None:
    context: dict[str, Any] = {}
    env.execute("s = {3, 1, 2}\nt = (1, 'a')\nhelper = lambda v: v", context)
    assert context == {"s": [1, 2, 3], "t": [1, "a"]}
    with pytest.raises(ScriptValueError, match="cannot be handed"):
        env.evaluate("x + 1", {"x": object()})


def test_name_errors_keep_their_meaning(engine: SandboxScriptEngine) -> None:
    with pytest.raises(ScriptNameError) as info:
        engine.environment.evaluate("votes_fro + 1", _data())
    assert isinstance(info.value, NameError)
    with pytest.raises(WorkflowTaskException) as raised:
        run_workflow(engine, "y = 1", "votes_fro > 1")
    assert "Did you mean" in str(raised.value) and "'votes_for'" in str(raised.value)


def test_functions_run_in_the_server_and_their_errors_reach_the_script() -> None:
    def check(value: int) -> int:
        if value < 0:
            raise ValueError("negative")
        return value

    env = SandboxEnvironment(shared_pool(Limits()), {"check": check})
    assert env.evaluate("check(2) + check(3)", {}) == 5
    context: dict[str, Any] = {}
    env.execute("try:\n    check(-1)\nexcept ValueError as e:\n    why = str(e)", context)
    assert context == {"why": "negative"}
    with pytest.raises(ScriptRaised, match="ValueError: negative"):
        env.evaluate("check(-1)", {})
    with pytest.raises(ScriptRaised, match="TypeError"):
        env.evaluate("check(lambda: 1)", {})


def test_range_is_bounded(env: SandboxEnvironment) -> None:
    with pytest.raises(ScriptRaised, match="ValueError: range"):
        env.evaluate("sum(range(10**12))", {})
    assert env.evaluate("sum(range(10))", {}) == 45


@pytest.mark.parametrize(
    "expression",
    [
        "2 ** 10 ** 9",
        "'a' * 10 ** 10",
        "[0] * 10 ** 9",
        "10 ** 9 * (0,)",
        "pow(10, 10 ** 8)",
        "1 << 10 ** 10",
        "(10 ** 200000) * (10 ** 200000)",
    ],
)
def test_one_huge_operation_is_refused_at_once_with_a_reason(
    env: SandboxEnvironment, expression: str
) -> None:
    started = time.monotonic()
    with pytest.raises(ScriptRaised, match="ScriptTooLarge"):
        env.evaluate(expression, {})
    assert time.monotonic() - started < 2.0


def test_huge_augmented_assignment_is_refused(env: SandboxEnvironment) -> None:
    context = {"x": 3, "s": "ab", "d": {"k": "ab"}}
    for script in ("x **= 10 ** 9", "s *= 10 ** 9", "x <<= 10 ** 9", "d['k'] *= 10 ** 9"):
        with pytest.raises(ScriptRaised, match="ScriptTooLarge"):
            env.execute(script, context)
    assert context == {"x": 3, "s": "ab", "d": {"k": "ab"}}


def test_ordinary_arithmetic_and_repetition_still_work(env: SandboxEnvironment) -> None:
    assert (
        env.evaluate("2 ** 10 + 3 * 4 + len('ab' * 3) + len([0] * 5) + pow(2, 5, 7) + (1 << 4)", {}) == 1067
    )
    assert env.evaluate("2 ** -1", {}) == 0.5


def test_infinite_loop_is_stopped_inside_workflow(engine: SandboxScriptEngine) -> None:
    engine = make_script_engine(shared_pool(QUICK), {"double": lambda v: 2 * v})
    started = time.monotonic()
    with pytest.raises(WorkflowTaskException) as info:
        run_workflow(engine, "x = 1\nwhile True:\n    x += 1")
    assert time.monotonic() - started < 5.0
    assert info.value.error_type == "ScriptLimitExceeded"
    assert "CPU limit" in str(info.value)
    assert end_data(run_workflow(engine, "x += 1"))[1]["x"] == 4


def test_gateway_condition_with_import_fails(engine: SandboxScriptEngine) -> None:
    with pytest.raises(WorkflowTaskException) as info:
        run_workflow(engine, "y = 1", "__import__('os').system('true')")
    assert info.value.task.task_spec.bpmn_id == "gateway"
    assert info.value.error_type == "ScriptRejected"
    assert "__import__" in str(info.value)
    assert end_data(run_workflow(engine, "y = 1", "3 * votes_for >= 2 * total"))[0] == "end_yes"


def test_script_errors_name_their_line(engine: SandboxScriptEngine) -> None:
    with pytest.raises(WorkflowTaskException) as info:
        run_workflow(engine, "a = 1\nb = 2\nc = a / 0")
    assert info.value.line_number == 3
    assert info.value.error_line == "c = a / 0"
    assert "ZeroDivisionError" in str(info.value)


ALLOWED = [
    ("x = x * 7 - 1 // 1 + 2 ** 3 % 5", {"x": 23}),
    (
        "d['n'] += 1\nd['k'] = [i * i for i in items]\nitems.append(4)",
        {"d": {"n": 1, "k": [9, 1, 4]}, "items": [3, 1, 2, 4]},
    ),
    ("x += 1", {"x": 4}),
    ("y = {k: v for k, v in d.items()}\nz = sorted({i for i in items})", {"y": {"n": 0}, "z": [1, 2, 3]}),
    ("y = double(x)", {"y": 6}),
    ("y = len(items) + max(items) - min(items)", {"y": 5}),
    ("y = sorted(items, key=lambda v: -v)", {"y": [3, 2, 1]}),
    ("y = f'{x} of {total}: {votes_for / total:.2f}'", {"y": "3 of 3: 0.67"}),
    (
        "a, b = items[0], items[1:]\nfor i, v in enumerate(items):\n    last = [i, v]",
        {"a": 3, "b": [1, 2], "last": [2, 2]},
    ),
    (
        "y = list(zip(items, reversed(items)))[0]\nok = all(map(bool, items)) and any(filter(None, items))",
        {"y": [3, 2], "ok": True},
    ),
    ("def helper(v):\n    return v + 1\ny = helper(x)", {"y": 4}),
    ("try:\n    y = items[10]\nexcept IndexError:\n    y = -1", {"y": -1}),
]


@pytest.mark.parametrize(("script", "changes"), ALLOWED)
def test_allowed_scripts(env: SandboxEnvironment, script: str, changes: dict[str, Any]) -> None:
    context = _data()
    assert env.execute(script, context) is True
    # No functions, builtins or guards are left in the task data.
    assert not [k for k, v in context.items() if callable(v) or k.startswith("_")]
    for key, value in changes.items():
        assert context[key] == value


def test_allowed_inside_workflow(engine: SandboxScriptEngine) -> None:
    script = "d['n'] += 1\nvotes_for += 1\ntotal = len(items)\nsummary = f'{votes_for}/{total}'"
    end, data = end_data(run_workflow(engine, script, "3 * votes_for >= 2 * total"))
    assert end == "end_yes"
    assert data == {"x": 3, "votes_for": 3, "total": 3, "d": {"n": 1}, "items": [3, 1, 2], "summary": "3/3"}
    end, _ = end_data(run_workflow(engine, "votes_for = 1", "3 * votes_for >= 2 * total"))
    assert end == "end_no"


def test_condition_and_expressions(env: SandboxEnvironment) -> None:
    assert env.evaluate("3 * votes_for >= 2 * total", _data()) is True
    assert env.evaluate("\n  3 * votes_for >= 2 * total\n", {"votes_for": 1, "total": 3}) is False
    assert env.evaluate("double(x) + len(items)", _data()) == 9
    assert env.evaluate("'PT' + str(x) + 'H'", _data()) == "PT3H"
    assert env.evaluate("x in items and not d['n']", _data()) is True
    assert env.evaluate("y", {"y": 1}, {"y": 2}) == 1  # task data over the external context
    assert env.evaluate("z", {"y": 1}, {"z": 2}) == 2


def test_task_data_cannot_hide_functions_or_guards(env: SandboxEnvironment) -> None:
    with pytest.raises(ValueError, match="double"):
        env.execute("x = 1", {"double": 5})
    assert env.evaluate("d['n']", {"d": {"n": 1}, "_getitem_": "not a function"}) == 1


def test_only_functions_can_be_exposed() -> None:
    pool = shared_pool(Limits())
    with pytest.raises(TypeError):
        SandboxEnvironment(pool, {"os": time})  # type: ignore[dict-item]
    with pytest.raises(TypeError):
        SandboxEnvironment(pool, {"cls": ValueError})
    with pytest.raises(ValueError):
        SandboxEnvironment(pool, {"_hidden": len})


def test_deployment_checks() -> None:
    assert check_expression("3 * votes_for >= 2 * total") is None
    assert check_expression('"PT1H"') is None
    assert check_script("d['n'] += 1\nx = [i for i in items]") is None
    assert "__import__" in (check_expression("__import__('os')") or "")
    assert "Line 3" in (check_script("x = 1\ny = 2\nimport os") or "")
    assert "Line 1" in (check_script("x = (") or "")
    assert "_subclasses__" in (check_expression("().__class__.__subclasses__()") or "")
    assert check_expression("a b") is not None
    assert "class definitions" in (check_script("class C:\n    pass") or "")
    assert "with statements" in (check_script("with x:\n    pass") or "")
    assert check_script("try:\n    x = 1\nexcept ValueError:\n    x = 2") is None


@pytest.mark.parametrize(
    ("symbol", "left", "right", "too_large"),
    [
        ("**", 2, policy.MAX_BITS + 1, True),
        ("**", 2, policy.MAX_BITS // 2, False),
        ("**", 1, 10**12, False),
        ("**", -1, 10**12, False),
        ("**", 10, -(10**9), False),
        ("<<", 1, policy.MAX_BITS + 1, True),
        ("<<", 0, 10**12, False),
        ("<<", 1, policy.MAX_BITS, False),
        ("*", "ab", policy.MAX_ITEMS // 2 + 1, True),
        ("*", "ab", policy.MAX_ITEMS // 2, False),
        ("*", policy.MAX_ITEMS + 1, [0], True),
        ("*", (0,), policy.MAX_ITEMS, False),
        ("*", 1 << (policy.MAX_BITS // 2), 1 << (policy.MAX_BITS // 2), True),
        ("*", 1 << (policy.MAX_BITS // 2 - 1), 1 << (policy.MAX_BITS // 2 - 2), False),
        ("*", 2.5, 10**9, False),
    ],
    ids=lambda value: value if isinstance(value, str) else type(value).__name__,
)
def test_size_checks(symbol: str, left: Any, right: Any, too_large: bool) -> None:
    if too_large:
        with pytest.raises(policy.ScriptTooLarge, match=re.escape(f"'{symbol}'")):
            policy.check_size(symbol, left, right)
    else:
        policy.check_size(symbol, left, right)


def test_pow_with_modulus_and_inplace_operators() -> None:
    assert policy.BUILTINS["pow"](3, 4, 5) == 1
    assert policy.BUILTINS["pow"](2, 10) == 1024
    with pytest.raises(policy.ScriptTooLarge):
        policy.BUILTINS["pow"](2, policy.MAX_BITS + 1)
    assert policy.GUARDS["_inplacevar_"]("<<=", 1, 4) == 16
    assert policy.GUARDS["_inplacevar_"]("-=", 5, 2) == 3
    with pytest.raises(TypeError, match="not allowed"):
        policy.GUARDS["_inplacevar_"]("@=", 1, 2)
    with pytest.raises(ValueError, match="range"):
        policy.BUILTINS["range"](policy.MAX_RANGE + 1)
    assert len(policy.BUILTINS["range"](policy.MAX_RANGE)) == policy.MAX_RANGE


NO_IMPORTS = "import statements are not allowed; use the functions the server provides"


def test_print_writes_to_the_log_of_the_element_whose_code_ran(env: SandboxEnvironment) -> None:
    context = _data()
    env.element_id = "Script_1"
    env.execute("print('x is', x, sep=': ', file=None)\ny = x + 1", context)
    assert context["y"] == 4 and "_print" not in context and "_print_" not in context
    env.element_id = "Flow_1"
    assert env.evaluate("print(votes_for) or votes_for > 1", context) is True
    assert env.take_printed() == [("Script_1", "x is: 3\n"), ("Flow_1", "2\n")]
    assert env.take_printed() == []
    env.execute("for i in range(5000):\n    print('line', i)", context)
    [(_element, text)] = env.take_printed()
    assert len(text) == policy.MAX_PRINTED + len("[output cut]\n") and text.endswith("[output cut]\n")
    with pytest.raises(ScriptError):
        env.execute("print('before')\nz = 1 / 0", context)
    assert env.take_printed() == [("Flow_1", "before\n")]


@pytest.mark.parametrize(
    ("script", "message"),
    [
        ("import os", f"Line 1: {NO_IMPORTS}"),
        ("from os import path", f"Line 1: {NO_IMPORTS}"),
        ("x = printed", "Line 1: printed is not available in diagram code; store values in variables"),
        ("with x:\n    pass", "Line 1: with statements are not allowed in diagram code"),
        ("class C:\n    pass", "Line 1: class definitions are not allowed in diagram code"),
        ("x[1:2] += [1]", "Line 1: augmented assignment of slices is not allowed"),
    ],
)
def test_deployment_messages_say_exactly_what_is_refused(script: str, message: str) -> None:
    assert check_script(script) == message


def test_the_documented_bounds_are_the_ones_enforced() -> None:
    # The README promises these numbers; each boundary is checked on both sides.
    assert len(policy.BUILTINS["range"](100_000)) == 100_000
    with pytest.raises(ValueError, match="more than 100000 items"):
        policy.BUILTINS["range"](100_001)
    policy.check_size("**", 3, 500_000)  # 2 bits x 500,000 = 1,000,000 bits
    with pytest.raises(policy.ScriptTooLarge):
        policy.check_size("**", 3, 500_001)
    policy.check_size("*", "a", 1_000_000)  # 1,000,000 items
    with pytest.raises(policy.ScriptTooLarge):
        policy.check_size("*", "a", 1_000_001)
    policy.check_size("*", 1 << 499_999, 1 << 499_999)  # 500,000 + 500,000 bits
    with pytest.raises(policy.ScriptTooLarge):
        policy.check_size("*", 1 << 500_000, 1 << 499_999)
    policy.check_size("<<", 1, 1_000_000)
    with pytest.raises(policy.ScriptTooLarge):
        policy.check_size("<<", 1, 1_000_001)


@pytest.mark.parametrize(
    ("op", "start", "value", "expected"),
    [
        ("+=", 7, 2, 9), ("-=", 7, 2, 5), ("*=", 7, 2, 14), ("/=", 7, 2, 3.5), ("//=", 7, 2, 3),
        ("%=", 7, 2, 1), ("**=", 7, 2, 49), ("<<=", 7, 2, 28), (">>=", 7, 2, 1), ("&=", 7, 2, 2),
        ("|=", 7, 2, 7), ("^=", 7, 2, 5),
    ],
)  # fmt: skip
def test_every_augmented_assignment_of_an_item(env: SandboxEnvironment, op: str, start: int, value: int,
                                               expected: float) -> None:  # fmt: skip
    context: dict[str, Any] = {"d": {"k": start}, "n": start}
    env.execute(f"d['k'] {op} {value}\nn {op} {value}", context)
    assert context == {"d": {"k": expected}, "n": expected}


def test_the_worker_sees_task_data_over_the_external_context_and_its_functions(
    env: SandboxEnvironment,
) -> None:
    assert env.evaluate("y + 0", {"y": 1}, {"y": 2}) == 1
    assert env.evaluate("z * 1", {"y": 1}, {"z": 2}) == 2
    assert env.evaluate("inc(y)", {"y": 1}, {"inc": lambda v: v + 1}) == 2
    context: dict[str, Any] = {"y": 1}
    env.execute("w = inc(y) + z", context, {"inc": lambda v: v + 1, "z": 10})
    assert context == {"y": 1, "w": 12}  # neither the function nor the external value is kept


def test_a_result_too_large_to_send_is_an_error() -> None:
    env = SandboxEnvironment(shared_pool(Limits()))
    with pytest.raises(ScriptValueError, match="over the limit"):
        env.execute("x = ''.join(['a' * 1000000] * 34)", {})
    context: dict[str, Any] = {}
    env.execute("s = {1, 'a'}", context)
    assert sorted(context["s"], key=str) == [1, "a"]


@pytest.mark.parametrize(
    ("error", "seen"),
    [
        (ValueError("bad value"), "ValueError: bad value"),
        (TypeError("bad type"), "TypeError: bad type"),
        (KeyError("k"), "KeyError: 'k'"),
        (LookupError("gone"), "LookupError: gone"),
        (ZeroDivisionError("zero"), "ZeroDivisionError: zero"),
        (OSError("disk"), "RuntimeError: fail: disk"),
    ],
)
def test_a_server_function_raises_into_the_script(error: Exception, seen: str) -> None:
    def fail() -> None:
        raise error

    env = SandboxEnvironment(shared_pool(Limits()), {"fail": fail})
    with pytest.raises(ScriptRaised) as info:
        env.evaluate("fail()", {})
    assert str(info.value) == seen
    context: dict[str, Any] = {}
    env.execute(f"try:\n    fail()\nexcept {seen.split(':')[0]}:\n    caught = True", context)
    assert context == {"caught": True}


def test_refusals_say_exactly_why() -> None:
    with pytest.raises(policy.ScriptTooLarge) as too_large:
        policy.check_size("**", 2, 10**9)
    assert str(too_large.value) == "the result of '**' would be too large to compute"
    with pytest.raises(TypeError) as operator_refused:
        policy.GUARDS["_inplacevar_"]("@=", 1, 2)
    assert str(operator_refused.value) == "operator @= is not allowed"
    assert check_script("import os\nimport sys") == f"Line 1: {NO_IMPORTS}; Line 2: {NO_IMPORTS}"
    assert check_script("x = 1\x00") == "the code contains a NUL character"
    assert check_expression("-" * 100_000 + "1") == "the code is nested too deeply to compile (MemoryError)"
    assert "__build_class__" not in policy.BUILTINS


def test_attributes_are_read_by_the_guard_that_raises(env: SandboxEnvironment) -> None:
    # RestrictedPython's own default getattr returns None for a missing attribute.
    with pytest.raises(ScriptRaised, match="AttributeError"):
        env.evaluate("items.nonexistent", _data())
    assert env.evaluate("max(*items)", _data()) == 3  # star-calls go through _apply_


def test_errors_of_the_environment_say_exactly_why() -> None:
    pool = shared_pool(Limits(memory_mb=128))
    with pytest.raises(TypeError) as not_a_function:
        SandboxEnvironment(pool, {"n": 5})  # type: ignore[dict-item]
    assert str(not_a_function.value) == "'n': only functions can be exposed to diagram code"
    with pytest.raises(ValueError) as private:
        SandboxEnvironment(pool, {"_n": len})
    assert str(private.value) == "'_n': diagram code cannot call names starting with '_'"
    env = SandboxEnvironment(pool, {"double": lambda v: 2 * v})
    with pytest.raises(ValueError) as overwrite:
        env.execute("x = 1", {"double": 2})
    assert str(overwrite.value) == (
        "You have task data that overwrites a predefined function(s). Please change the following "
        "variable or field name(s) to something else: {'double'}"
    )
    with pytest.raises(ScriptValueError) as unsendable:
        env.evaluate("x + 1", {"x": object()})
    assert str(unsendable.value) == (
        "the task data cannot be handed to diagram code: a object value cannot be stored in task data"
    )
    with pytest.raises(ScriptValueError) as result:
        env.evaluate("(i for i in [1])", {})
    assert str(result.value) == (
        "the result cannot be stored in task data "
        "(TypeError: a generator value cannot be stored in task data)"
    )
    with pytest.raises(ScriptLimitExceeded) as memory:
        env.execute("x = 'a' * 1000000\ny = [x + str(i) for i in range(300)]", {})
    assert str(memory.value) == "diagram code used more than the memory limit of 128 MB"


def test_an_undefined_name_in_a_script_is_reported_as_python_words_it(engine: SandboxScriptEngine) -> None:
    with pytest.raises(WorkflowTaskException) as info:
        run_workflow(engine, "y = 1\nz = missing + 1")
    assert str(info.value).startswith("NameError: name 'missing' is not defined")
    assert info.value.line_number == 2


def test_messages_of_failures_in_a_workflow(engine: SandboxScriptEngine) -> None:
    with pytest.raises(WorkflowTaskException) as condition:
        run_workflow(engine, "y = 1", "y + missing_value > 1")
    assert str(condition.value).startswith("Error evaluating expression 'y + missing_value > 1'")
    with pytest.raises(WorkflowTaskException) as script:
        run_workflow(engine, "a = 1\nb = 2\nc = a / 0")
    assert script.value.notes == ["Python script error on line 3: 'c = a / 0'"]
    assert str(script.value) == f"ZeroDivisionError: division by zero. {script.value.notes[0]}"
    with pytest.raises(ScriptRaised) as bare:
        engine.environment.execute("raise ValueError()", {})
    assert str(bare.value) == "ValueError"
    with pytest.raises(ScriptValueError) as variable:
        engine.environment.execute("g = (i for i in [1])", {})
    assert str(variable.value) == (
        "variable 'g' cannot be stored in task data "
        "(TypeError: a generator value cannot be stored in task data)"
    )


def test_diagram_code_is_restricted_unless_a_test_says_otherwise() -> None:
    assert make_script_engine(shared_pool(Limits())).environment.unrestricted is False
    assert check_expression("x = 1") is not None  # an assignment is no expression


def test_task_data_larger_than_a_pipe_holds_goes_both_ways(env: SandboxEnvironment) -> None:
    big = "é" * 600_000  # 1.2 MB of UTF-8, read in several pieces
    assert env.evaluate("len(big)", {"big": big}) == 600_000
    context = {"big": big}
    env.execute("bigger = big + big", context)
    assert context["bigger"] == big + big
