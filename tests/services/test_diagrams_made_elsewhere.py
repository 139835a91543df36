"""Diagrams drawn in other modellers (Camunda Modeler, bpmn.io) deploy and run: a user task in no
lane belongs to the instance's initiator, several pools run together, print() writes to the
instance's log, and extension elements of other engines are kept and ignored."""

from __future__ import annotations

import pytest

from app.errors import Forbidden, InvalidInput
from app.services.modelling import deployments
from app.services.running import instances
from app.services.work import tasks
from tests.conftest import FIXTURES, make_user

ELSEWHERE = FIXTURES / "elsewhere"


def _files(name: str, replace: tuple[bytes, bytes] | None = None) -> dict[str, bytes]:
    content = (ELSEWHERE / name).read_bytes()
    if replace:
        content = content.replace(*replace)
    return {name: content}


@pytest.fixture
def people(ctx):
    return {
        "ana": make_user(ctx, "ana", ["analysts"]),
        "kate": make_user(ctx, "kate", ["clerks"]),
        "otto": make_user(ctx, "otto", ["others"]),
    }


def test_a_user_task_in_no_lane_belongs_to_whoever_started_the_instance(ctx, people):
    files = _files("camunda_one_task.bpmn")
    result = deployments.deploy(ctx, people["ana"], files)
    assert (result.model_id, result.created) == ("Process_Leave", True)
    assert result.warnings == [
        {
            "file": "camunda_one_task.bpmn",
            "line": 7,
            "element_id": "Activity_Approve",
            "message": "this user task is in no lane: it will belong to the user who started the instance",
        }
    ]
    # Camunda's own extensions stay in the stored file, ignored
    assert b"camunda:taskListener" in deployments.get_file(ctx, "Process_Leave", "camunda_one_task.bpmn")
    started = instances.start_instance(ctx, people["kate"], "Process_Leave", {})
    [task] = started["tasks"]
    assert [t["id"] for t in tasks.list_tasks(ctx, people["kate"], scope="mine")] == [task["id"]]
    assert tasks.list_tasks(ctx, people["otto"], scope="available") == []
    with pytest.raises(Forbidden):
        tasks.complete_task(ctx, people["otto"], task["id"], {})
    tasks.complete_task(ctx, people["kate"], task["id"], {"approved": True})
    assert instances.get_instance(ctx, people["kate"], started["id"])["status"] == "complete"


def test_a_collaboration_of_two_pools_runs_both_and_its_message_flow(ctx, people):
    result = deployments.deploy(ctx, people["ana"], _files("camunda_two_pools.bpmn"))
    assert result.model_id == "Collaboration_0x1"
    assert deployments.get_model(ctx, "Collaboration_0x1")["metadata"]["name"] == "Customer + Shop"
    started = instances.start_instance(ctx, people["kate"], "Collaboration_0x1", {})
    [task] = started["tasks"]
    assert (task["name"], task["assignee"], task["reserved"]) == ("Activity_Review", "kate", True)
    assert instances.printed_log(ctx, people["kate"], started["id"]) == []
    tasks.complete_task(ctx, people["kate"], task["id"], {})
    # The throw in the Customer's pool started the Shop's pool, whose script ran and printed
    view = instances.get_instance(ctx, people["kate"], started["id"])
    assert view["status"] == "complete"
    [line] = instances.printed_log(ctx, people["kate"], started["id"])
    assert (line["element_id"], line["text"]) == ("Activity_Ship", "shipped: True\n")
    with pytest.raises(Forbidden):
        instances.printed_log(ctx, people["otto"], started["id"])


def test_what_a_failing_script_printed_is_kept_with_the_incident(ctx, people):
    failing = (b'print("shipped:", shipped)', b'print("about to fail", 1)\nshipped = 1 / 0')
    deployments.deploy(ctx, people["ana"], _files("camunda_two_pools.bpmn", failing))
    started = instances.start_instance(ctx, people["kate"], "Collaboration_0x1", {})
    tasks.complete_task(ctx, people["kate"], started["tasks"][0]["id"], {})
    assert instances.get_instance(ctx, people["kate"], started["id"])["status"] == "error"
    assert [line["text"] for line in instances.printed_log(ctx, people["kate"], started["id"])] == [
        "about to fail 1\n"
    ]


def test_a_named_pool_deploys_alone_and_a_refusal_says_why(ctx, people):
    alone = deployments.deploy(
        ctx, people["ana"], _files("camunda_two_pools.bpmn"), process_id="Process_Order"
    )
    assert alone.model_id == "Process_Order"
    importing = _files("camunda_two_pools.bpmn", (b"shipped = True", b"import os\nshipped = True"))
    with pytest.raises(InvalidInput) as refused:
        deployments.deploy(ctx, people["ana"], importing)
    [problem] = refused.value.details
    assert problem["element_id"] == "Activity_Ship"
    assert "import statements are not allowed; use the functions the server provides" in problem["message"]
    printed = _files("camunda_two_pools.bpmn", (b'print("shipped:", shipped)', b"x = printed"))
    with pytest.raises(InvalidInput) as refused:
        deployments.deploy(ctx, people["ana"], printed)
    assert "printed is not available in diagram code" in refused.value.details[0]["message"]
