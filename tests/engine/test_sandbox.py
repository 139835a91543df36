from __future__ import annotations

import copy
import os
import sys
import time
from typing import Any
from xml.sax.saxutils import escape

import pytest
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from SpiffWorkflow.util.task import TaskState

from app.engine import sandbox
from app.engine.sandbox import (
    SandboxEnvironment,
    SandboxScriptEngine,
    ScriptError,
    ScriptRejected,
    ScriptTimeout,
    check_expression,
    check_script,
    make_script_engine,
)

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
    "print(x)",
    "try:\n    x = 1\nexcept Exception:\n    pass",
]


def _data() -> dict[str, Any]:
    return {"x": 3, "votes_for": 2, "total": 3, "d": {"n": 0}, "items": [3, 1, 2]}


@pytest.fixture(scope="module")
def engine() -> SandboxScriptEngine:
    # One engine for the whole module: a failure must leave it usable for the next test.
    return make_script_engine({"double": lambda v: 2 * v}, cpu_seconds=1.0)


@pytest.fixture
def env(engine: SandboxScriptEngine) -> SandboxEnvironment:
    return engine.environment


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
    with pytest.raises((ScriptError, NameError, NotImplementedError)):
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
    with pytest.raises((ScriptError, NameError)):
        env.evaluate(expression, _data())


@pytest.mark.parametrize("script", ESCAPES)
def test_escape_fails_inside_workflow(engine: SandboxScriptEngine, script: str) -> None:
    with pytest.raises(WorkflowTaskException) as info:
        run_workflow(engine, script)
    assert info.value.task.task_spec.bpmn_id == "script"
    assert info.value.task.state == TaskState.ERROR
    assert info.value.error_type in ("ScriptRejected", "NameError", "NotImplementedError")
    # The same engine still runs the next workflow.
    assert end_data(run_workflow(engine, "x = double(x)", "x == 6")) == ("end_yes", {**_data(), "x": 6})


def test_rejection_explains_why(env: SandboxEnvironment) -> None:
    with pytest.raises(ScriptRejected, match='Line 1: "__import__" is an invalid variable name'):
        env.evaluate("__import__('os')", {})
    with pytest.raises(ScriptRejected, match="Line 2: import statements are not allowed"):
        env.execute("x = 1\nimport os", {})
    assert not issubclass(ScriptRejected, SyntaxError)


def test_infinite_loop_times_out(env: SandboxEnvironment) -> None:
    context = _data()
    started = time.monotonic()
    with pytest.raises(ScriptTimeout):
        env.execute("while True: pass", context)
    assert time.monotonic() - started < 2.0
    assert context == _data()


def test_deep_loops_and_generators_time_out() -> None:
    env = SandboxEnvironment(cpu_seconds=0.2)
    started = time.monotonic()
    with pytest.raises(ScriptTimeout):
        env.evaluate("sum(i * j for i in range(100000) for j in range(100000))", {})
    with pytest.raises(ScriptTimeout):
        env.execute("def gen():\n    while True:\n        yield 1\nfor v in gen():\n    pass", {})
    with pytest.raises(ScriptTimeout):
        env.execute("f = lambda: [f for i in range(10**5)]\nwhile True:\n    f()", {})
    assert time.monotonic() - started < 2.0


def test_range_is_bounded(env: SandboxEnvironment) -> None:
    with pytest.raises(ValueError, match="range"):
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
    ],
)
def test_one_huge_c_level_operation_is_refused_at_once(env: SandboxEnvironment, expression: str) -> None:
    # These run in one C call, where the CPU-time limit cannot interrupt them.
    started = time.monotonic()
    with pytest.raises(sandbox.ScriptTooLarge):
        env.evaluate(expression, {})
    assert time.monotonic() - started < 0.5


def test_huge_augmented_assignment_is_refused(env: SandboxEnvironment) -> None:
    context = {"x": 3, "s": "ab"}
    with pytest.raises(sandbox.ScriptTooLarge):
        env.execute("x **= 10 ** 9", context)
    with pytest.raises(sandbox.ScriptTooLarge):
        env.execute("s *= 10 ** 9", context)
    assert context == {"x": 3, "s": "ab"}


def test_ordinary_arithmetic_and_repetition_still_work(env: SandboxEnvironment) -> None:
    assert (
        env.evaluate("2 ** 10 + 3 * 4 + len('ab' * 3) + len([0] * 5) + pow(2, 5, 7) + (1 << 4)", {}) == 1067
    )
    assert env.evaluate("2 ** -1", {}) == 0.5


def test_infinite_loop_times_out_inside_workflow(engine: SandboxScriptEngine) -> None:
    started = time.monotonic()
    with pytest.raises(WorkflowTaskException) as info:
        run_workflow(engine, "x = 1\nwhile True:\n    x += 1")
    assert time.monotonic() - started < 2.5
    assert info.value.error_type == "ScriptTimeout"
    assert isinstance(info.value.__context__, ScriptTimeout)
    assert info.value.line_number in (2, 3)
    assert end_data(run_workflow(engine, "x += 1"))[1]["x"] == 4


def test_gateway_condition_with_import_fails(engine: SandboxScriptEngine) -> None:
    with pytest.raises(WorkflowTaskException) as info:
        run_workflow(engine, "y = 1", "__import__('os').system('true')")
    assert info.value.task.task_spec.bpmn_id == "gateway"
    assert info.value.error_type == "ScriptRejected"
    assert "__import__" in str(info.value)
    assert end_data(run_workflow(engine, "y = 1", "3 * votes_for >= 2 * total"))[0] == "end_yes"


def test_trace_function_is_restored(env: SandboxEnvironment) -> None:
    def tracer(frame: Any, event: str, arg: Any) -> None:
        return None

    previous = sys.gettrace()
    sys.settrace(tracer)
    try:
        env.evaluate("1 + 1", {})
        with pytest.raises(ScriptTimeout):
            SandboxEnvironment(cpu_seconds=0.05).execute("while True: pass", {})
        assert sys.gettrace() is tracer
    finally:
        sys.settrace(previous)


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
        {"y": (3, 2), "ok": True},
    ),
    ("def helper(v):\n    return v + 1\ny = helper(x)", {"y": 4}),
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
    hits = sandbox._compile.cache_info().hits
    env.evaluate("3 * votes_for >= 2 * total", _data())
    assert sandbox._compile.cache_info().hits == hits + 1


def test_task_data_cannot_hide_functions_or_guards(env: SandboxEnvironment) -> None:
    with pytest.raises(ValueError, match="double"):
        env.execute("x = 1", {"double": 5})
    assert env.evaluate("d['n']", {"d": {"n": 1}, "_getitem_": "not a function"}) == 1


def test_only_functions_can_be_exposed() -> None:
    with pytest.raises(TypeError):
        SandboxEnvironment({"os": os})  # type: ignore[dict-item]
    with pytest.raises(ValueError):
        SandboxEnvironment({"_hidden": len})


def test_deployment_checks() -> None:
    assert check_expression("3 * votes_for >= 2 * total") is None
    assert check_expression('"PT1H"') is None
    assert check_script("d['n'] += 1\nx = [i for i in items]") is None
    assert "__import__" in (check_expression("__import__('os')") or "")
    assert "Line 3" in (check_script("x = 1\ny = 2\nimport os") or "")
    assert "Line 1" in (check_script("x = (") or "")
    assert "_subclasses__" in (check_expression("().__class__.__subclasses__()") or "")
    assert check_expression("a b") is not None
