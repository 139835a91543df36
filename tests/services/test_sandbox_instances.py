"""Hostile diagram code through the use cases: every failure is an incident on its own instance
or a refused deployment, never a leak, a hang, a lock held, or another instance's loss."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from xml.sax.saxutils import escape

import pytest

from app.errors import InvalidInput
from app.services.modelling import deployments
from app.services.people import users
from app.services.people.users import SYSTEM
from app.services.running import instances
from app.services.time import timer_admin, timers
from tests.conftest import START, make_user, read_fixture


@pytest.fixture(autouse=True)
def groups(ctx):
    make_user(ctx, "ann", ["reviewers", "auditors"])


ESCAPES = [
    "x = ().__class__.__base__.__subclasses__()",
    "x = __import__('os').system('touch /tmp/pwned')",
    "import os",
]

PROCESS = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" id="Defs_Hostile" targetNamespace="urn:test">
  <bpmn:process id="hostile" isExecutable="true">
    <bpmn:startEvent id="StartEvent_1"><bpmn:outgoing>Flow_1</bpmn:outgoing></bpmn:startEvent>
    {wait}
    <bpmn:scriptTask id="Script_Hostile">
      <bpmn:incoming>Flow_2</bpmn:incoming><bpmn:outgoing>Flow_3</bpmn:outgoing>
      <bpmn:script>{script}</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:endEvent id="EndEvent_1"><bpmn:incoming>Flow_3</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="Flow_1" sourceRef="StartEvent_1" targetRef="Wait" />
    <bpmn:sequenceFlow id="Flow_2" sourceRef="Wait" targetRef="Script_Hostile" />
    <bpmn:sequenceFlow id="Flow_3" sourceRef="Script_Hostile" targetRef="EndEvent_1" />
  </bpmn:process>
</bpmn:definitions>
"""
TIMER = """<bpmn:intermediateCatchEvent id="Wait"><bpmn:incoming>Flow_1</bpmn:incoming>
      <bpmn:outgoing>Flow_2</bpmn:outgoing><bpmn:timerEventDefinition id="TimerDef_Wait">
      <bpmn:timeDuration xsi:type="bpmn:tFormalExpression">{timer}</bpmn:timeDuration>
    </bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>"""
NO_WAIT = """<bpmn:scriptTask id="Wait"><bpmn:incoming>Flow_1</bpmn:incoming>
      <bpmn:outgoing>Flow_2</bpmn:outgoing><bpmn:script>pass</bpmn:script></bpmn:scriptTask>"""


def hostile(script: str = "done = True", timer: str | None = None) -> dict[str, bytes]:
    """Start, a timer (or a script that does nothing), then the script."""
    wait = TIMER.format(timer=escape(timer)) if timer else NO_WAIT
    return {"hostile.bpmn": PROCESS.format(script=escape(script), wait=wait).encode()}


def _with_script(script: str) -> dict[str, bytes]:
    files = read_fixture("fragile.bpmn")
    files["fragile.bpmn"] = files["fragile.bpmn"].replace(
        b"auditor = group_members('auditors')[0]", script.encode()
    )
    return files


@pytest.mark.parametrize("script", ESCAPES)
def test_escape_attempts_are_refused_at_deployment(ctx, script):
    with pytest.raises(InvalidInput) as info:
        deployments.deploy(ctx, SYSTEM, _with_script(script))
    assert [d["element_id"] for d in info.value.details] == ["Script_PickAuditor"]


@pytest.mark.parametrize(
    "script",
    [
        "x = open('/etc/passwd').read()",
        "x = getattr(len, '__self__')",
        "x = getattr(group_members, '__glob' + 'als__')",
        "y = globals()",
        "x = (lambda: 0).__code__",
        "x = [c for c in (1).__class__.__mro__]",
    ],
)
def test_escapes_that_compile_fail_at_run_time_and_instance_goes_to_error(ctx, script):
    try:
        deployments.deploy(ctx, SYSTEM, _with_script(script))
    except InvalidInput:
        return  # refused even earlier, at deployment
    view = instances.start_instance(ctx, SYSTEM, "fragile", {})
    assert view["status"] == "error"
    assert view["error"]["element_id"] == "Script_PickAuditor"
    assert "x" not in view["data"] and "y" not in view["data"]


# 1. The secret key through format-string field names, at deployment.
@pytest.mark.parametrize(
    "timer",
    [
        "'{0.gi_frame.f_back.f_globals}'.format((x for x in [1]))",
        "'{0.__class__.__init__.__globals__}'.format(len)",
        "'{0.gi_frame.f_globals[__builtins__]}'.format((x for x in [1]))",
    ],
)
def test_a_timer_expression_cannot_reveal_the_servers_secrets_at_deployment(ctx, timer):
    with pytest.raises(InvalidInput) as info:
        deployments.deploy(ctx, SYSTEM, hostile(timer=timer))
    text = repr(info.value.details)
    assert ctx.settings.secret_key not in text
    assert "database_url" not in text.lower() and "sqlite" not in text
    [problem] = info.value.details
    assert problem["file"] == "hostile.bpmn" and problem["element_id"] == "Wait"
    assert problem["line"] == 6


# 5. Deploy-time evaluation runs under limits, and under no database lock.
def test_a_timer_expression_at_deployment_is_stopped_by_the_cpu_limit_without_locking(ctx):
    slow = "str(sum(1 for i in range(100000) for j in range(100000)))"
    outcome: dict[str, object] = {}

    def deploy() -> None:
        try:
            deployments.deploy(ctx, SYSTEM, hostile(timer=slow))
        except InvalidInput as exc:
            outcome["details"] = exc.details

    thread = threading.Thread(target=deploy)
    began = time.monotonic()
    thread.start()
    time.sleep(0.4)
    # A write of another use case meanwhile: SQLite's write lock is free.
    write_started = time.monotonic()
    users.create_user(ctx, SYSTEM, username="bob", password="password123", groups=["reviewers"], leads=[])
    assert time.monotonic() - write_started < 0.3
    assert thread.is_alive()  # the deployment was still evaluating
    thread.join()
    assert time.monotonic() - began < 4
    [problem] = outcome["details"]  # type: ignore[misc]
    assert problem["element_id"] == "Wait" and problem["line"] == 6
    assert "CPU limit" in problem["message"]


@pytest.mark.parametrize(
    ("script", "limit"),
    [
        # 2. The old in-process CPU limit was switched off by a generator finalised mid-loop.
        (
            "def gen():\n    try:\n        yield 1\n    finally:\n        pass\n"
            "while True:\n    for v in gen():\n        break",
            "CPU limit",
        ),
        # 3. One C-level call.
        ("x = pow(3, 10 ** 200000, 10 ** 200000 + 1)", "CPU limit"),
        # 4. Memory through formatting widths, ljust, join and doubling.
        ("x = '%*s' % (400000000, 'a')", "memory limit"),
        ("x = 'a'.ljust(400000000)", "memory limit"),
        ("x = [1] * 100000\nwhile True:\n    x = x + x", "memory limit"),
    ],
)
def test_a_limit_becomes_an_incident_naming_it(ctx, script, limit):
    deployments.deploy(ctx, SYSTEM, hostile(script))
    started = time.monotonic()
    view = instances.start_instance(ctx, SYSTEM, "hostile", {"kept": 1})
    assert time.monotonic() - started < 6
    assert view["status"] == "error"
    assert view["error"]["element_id"] == "Script_Hostile"
    assert limit in view["error"]["message"]
    assert view["data"] == {"kept": 1}
    assert instances.get_instance(ctx, SYSTEM, view["id"])["status"] == "error"


# 6. Exceptions that pass through `except Exception`, and values that cannot be stored.
@pytest.mark.parametrize(
    ("script", "message"),
    [
        ("raise SystemExit(0)", "SystemExit"),
        ("raise KeyboardInterrupt()", "KeyboardInterrupt"),
        ("raise GeneratorExit()", "GeneratorExit"),
        ("g = (i for i in [1])", "variable 'g' cannot be stored"),
        ("e = ValueError('x')", "variable 'e' cannot be stored"),
        ("n = 10 ** 5000", "variable 'n' cannot be stored"),
    ],
)
def test_any_exception_or_unstorable_value_at_start_is_an_incident(ctx, script, message):
    deployments.deploy(ctx, SYSTEM, hostile(script))
    view = instances.start_instance(ctx, SYSTEM, "hostile", {})
    assert view["status"] == "error"
    assert message in view["error"]["message"]


def test_a_failing_instance_does_not_stop_other_timers_of_its_batch(ctx, clock):
    script = "if boom:\n    raise SystemExit(1)\ndone = True"
    deployments.deploy(ctx, SYSTEM, hostile(script, timer='"PT1H"'))
    ids = [instances.start_instance(ctx, SYSTEM, "hostile", {"boom": b})["id"] for b in (True, False, True)]
    clock.set(START + timedelta(hours=2))
    assert timers.run_due(ctx, "s1", batch_size=10) == 3
    views = [instances.get_instance(ctx, SYSTEM, instance_id) for instance_id in ids]
    assert [v["status"] for v in views] == ["error", "complete", "error"]
    assert "SystemExit" in views[0]["error"]["message"]
    assert views[1]["data"]["done"] is True


def _write_meanwhile(ctx, use_case) -> float:
    """Run `use_case` in a thread; while its diagram code runs, time another use case's write."""
    thread = threading.Thread(target=use_case)
    thread.start()
    time.sleep(0.4)
    began = time.monotonic()
    name = f"u{time.monotonic_ns()}"
    users.create_user(ctx, SYSTEM, username=name, password="password123", groups=[], leads=[])
    took = time.monotonic() - began
    assert thread.is_alive()  # the diagram code was still running
    thread.join()
    return took


def test_firing_now_and_retrying_hold_no_lock_while_diagram_code_runs(ctx):
    admin = make_user(ctx, "root", ["admins"])
    deployments.deploy(ctx, SYSTEM, hostile("x = 0\nwhile True:\n    x += 1", timer='"PT1H"'))
    instance_id = instances.start_instance(ctx, SYSTEM, "hostile", {})["id"]
    [timer] = timer_admin.list_timers(ctx, admin)
    assert _write_meanwhile(ctx, lambda: timer_admin.fire_timer_now(ctx, admin, timer["id"])) < 0.3
    view = instances.get_instance(ctx, admin, instance_id)
    assert view["status"] == "error" and "CPU limit" in view["error"]["message"]
    assert _write_meanwhile(ctx, lambda: instances.retry_instance(ctx, admin, instance_id)) < 0.3
    assert instances.get_instance(ctx, admin, instance_id)["status"] == "error"
