"""Untrusted scripts in deployed diagrams: escapes and endless loops fail without effect."""

from __future__ import annotations

import time

import pytest

from app.errors import InvalidInput
from app.services import deployments, instances
from app.services.users import SYSTEM
from tests.conftest import make_user, read_fixture


@pytest.fixture(autouse=True)
def groups(ctx):
    make_user(ctx, "ann", ["reviewers", "auditors"])


ESCAPES = [
    "x = ().__class__.__base__.__subclasses__()",
    "x = __import__('os').system('touch /tmp/pwned')",
    "x = open('/etc/passwd').read()",
    "import os",
]


def _with_script(script: str) -> dict[str, bytes]:
    files = read_fixture("fragile.bpmn")
    files["fragile.bpmn"] = files["fragile.bpmn"].replace(
        b"auditor = group_members('auditors')[0]", script.encode()
    )
    return files


@pytest.mark.parametrize("script", [e for e in ESCAPES if "open(" not in e])
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


def test_endless_loop_is_stopped_and_server_keeps_serving(ctx):
    deployments.deploy(ctx, SYSTEM, _with_script("while True:\n    pass"))
    started = time.monotonic()
    view = instances.start_instance(ctx, SYSTEM, "fragile", {})
    assert time.monotonic() - started < 10
    assert view["status"] == "error"
    assert "time" in view["error"]["message"].lower()
    # the next request is served normally
    assert instances.get_instance(ctx, SYSTEM, view["id"])["status"] == "error"
