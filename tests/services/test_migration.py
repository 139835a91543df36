"""Moving running instances to a new version: the preview, a move that keeps the open task with
its claim and data, a refusal that changes nothing, and the audit record."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.db.models import AuditRecord, HumanTaskGroup
from app.errors import Conflict, Forbidden
from app.services.modelling import deployments
from app.services.people.users import SYSTEM
from app.services.running import instances, migration, suspension
from app.services.work import tasks
from tests.conftest import APPROVAL, make_user, read_fixture
from tests.scheduler.conftest import wait_until

STAMP = """    <bpmn:sequenceFlow id="Flow_ToEnd" sourceRef="Script_Record" targetRef="Script_Stamp"/>
    <bpmn:scriptTask id="Script_Stamp" name="Stamp the outcome">
      <bpmn:incoming>Flow_ToEnd</bpmn:incoming>
      <bpmn:outgoing>Flow_StampToEnd</bpmn:outgoing>
      <bpmn:script>stamp = 'v2: ' + outcome</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:sequenceFlow id="Flow_StampToEnd" sourceRef="Script_Stamp" targetRef="EndEvent"/>"""


def approval_files(version: str) -> dict[str, bytes]:
    """The approval fixture as version 1, 2 (a step added after the review) or 3 (no review)."""
    files = read_fixture(*APPROVAL)
    xml = files["approval.bpmn"].decode()
    if version == "added_after":
        xml = xml.replace(
            '    <bpmn:sequenceFlow id="Flow_ToEnd" sourceRef="Script_Record" targetRef="EndEvent"/>',
            STAMP,
        )
        xml = xml.replace(
            "<bpmn:incoming>Flow_ToEnd</bpmn:incoming>\n    </bpmn:endEvent>",
            "<bpmn:incoming>Flow_StampToEnd</bpmn:incoming>\n    </bpmn:endEvent>",
        )
    if version == "review_removed":
        closing = "    </bpmn:userTask>\n"
        start, end = xml.index("    <bpmn:userTask"), xml.index(closing) + len(closing)
        xml = xml[:start] + xml[end:]
        xml = xml.replace('targetRef="Task_Review"', 'targetRef="Script_Record"')
        flow = '<bpmn:sequenceFlow id="Flow_ToRecord" sourceRef="Task_Review" targetRef="Script_Record"/>'
        xml = xml.replace(flow, "")
        xml = xml.replace("<bpmn:flowNodeRef>Task_Review</bpmn:flowNodeRef>", "")
        xml = xml.replace("Flow_ToRecord</bpmn:incoming>", "Flow_ToReview</bpmn:incoming>")
    files["approval.bpmn"] = xml.encode()
    return files


@pytest.fixture
def waiting(ctx):
    """An approval waiting at its review, claimed by rita; versions 2 and 3 deployed after it."""
    admin = make_user(ctx, "ada", ["admins"])
    rita = make_user(ctx, "rita", ["reviewers"])
    deployments.deploy(ctx, SYSTEM, approval_files("v1"))
    view = instances.start_instance(ctx, SYSTEM, "approval", {"subject": "S", "divisor": 4})
    task_id = view["tasks"][0]["id"]
    tasks.claim_task(ctx, rita, task_id)
    assert deployments.deploy(ctx, SYSTEM, approval_files("added_after")).version == 2
    assert deployments.deploy(ctx, SYSTEM, approval_files("review_removed")).version == 3
    return {"admin": admin, "rita": rita, "instance_id": view["id"], "task_id": task_id}


def test_an_instance_at_a_kept_task_moves_with_its_claim_and_data(ctx, waiting):
    admin, instance_id = waiting["admin"], waiting["instance_id"]
    preview = migration.preview(ctx, admin, instance_id, 2)
    assert preview["movable"] and preview["reasons"] == []
    assert preview["added"] == ["Script_Stamp"] and preview["removed"] == []
    view = migration.migrate_instance(ctx, admin, instance_id, 2)
    assert view["version"] == 2
    [task] = view["tasks"]
    assert (task["id"], task["assignee"]) == (waiting["task_id"], "rita")
    assert view["data"]["subject"] == "S"
    done = tasks.complete_task(ctx, waiting["rita"], waiting["task_id"], {"approved": True, "comment": "ok"})
    assert done["status"] == "complete"
    assert (
        instances.get_instance(ctx, SYSTEM, instance_id)["data"]["stamp"] == "v2: approved"
    )  # the new step ran
    with ctx.uow() as uow:
        [record] = uow.session.scalars(select(AuditRecord).where(AuditRecord.action == "instance.migrated"))
        assert (record.actor, record.details["from_version"], record.details["to_version"]) == ("ada", 1, 2)


def test_an_instance_at_a_removed_task_is_refused_and_unchanged(ctx, waiting):
    admin, instance_id = waiting["admin"], waiting["instance_id"]
    before = instances.get_instance(ctx, SYSTEM, instance_id)
    preview = migration.preview(ctx, admin, instance_id, 3)
    assert not preview["movable"] and preview["removed"] == ["Task_Review"]
    assert "Task_Review" in preview["reasons"][0]
    with pytest.raises(Conflict, match="cannot move"):
        migration.migrate_instance(ctx, admin, instance_id, 3)
    after = instances.get_instance(ctx, SYSTEM, instance_id)
    assert (after["version"], after["tasks"], after["updated_at"]) == (
        1,
        before["tasks"],
        before["updated_at"],
    )


def test_who_and_what_may_move(ctx, waiting):
    admin, instance_id = waiting["admin"], waiting["instance_id"]
    with pytest.raises(Forbidden):
        migration.preview(ctx, waiting["rita"], instance_id, 2)
    assert not migration.preview(ctx, admin, instance_id, 1)["movable"]  # where it is already
    suspension.suspend_instance(ctx, admin, instance_id)
    assert migration.migrate_instance(ctx, admin, instance_id, 2)["status"] == "suspended"  # stays so
    instances.cancel_instance(ctx, admin, instance_id)
    assert "cancelled" in migration.preview(ctx, admin, instance_id, 1)["reasons"][0]


def test_a_bulk_migration_where_one_instance_fails_midway(ctx, waiting, monkeypatch):
    from app.engine import migration as engine_migration
    from app.services.running import bulk_migration

    admin = waiting["admin"]
    deployments.deploy(ctx, SYSTEM, approval_files("v1"))  # version 4, like version 1
    started = [
        instances.start_instance(ctx, SYSTEM, "approval", {"subject": f"S{n}", "divisor": 4})["id"]
        for n in range(200)
    ]
    broken = started[57]
    real_migrate = engine_migration.migrate

    def migrate_but_one(workflow, new):
        if workflow.data.get("fails") or any(t.data.get("subject") == "S57" for t in workflow.get_tasks()):
            raise RuntimeError("the disk is full")  # a fault in the middle of the job
        return real_migrate(workflow, new)

    monkeypatch.setattr(engine_migration, "migrate", migrate_but_one)
    job_id = bulk_migration.create_job(ctx, admin, "approval", 4, 2)
    view = bulk_migration.run_job(ctx, admin, job_id)
    assert (view["status"], view["total"], view["done"]) == ("done", 200, 200)
    assert (view["moved"], view["refused"], view["failed"]) == (199, 0, 1)
    [failure] = [r for r in view["results"] if r["outcome"] == "failed"]
    assert failure["instance_id"] == broken and "disk is full" in failure["message"]
    assert instances.get_instance(ctx, SYSTEM, broken)["version"] == 4  # unchanged
    assert {instances.get_instance(ctx, SYSTEM, i)["version"] for i in started if i != broken} == {2}
    again = bulk_migration.run_job(ctx, admin, job_id)  # run again: what has a result is not retried
    assert (again["moved"], again["done"], again["failed"]) == (199, 200, 1)


def test_two_administrators_moving_the_same_version_at_once_move_each_instance_once(ctx, waiting):
    import threading
    from collections import Counter

    from app.services.running import bulk_migration

    admin, other = waiting["admin"], make_user(ctx, "bob", ["admins"])
    deployments.deploy(ctx, SYSTEM, approval_files("v1"))  # version 4, like version 1
    started = [
        instances.start_instance(ctx, SYSTEM, "approval", {"subject": f"S{n}", "divisor": 4})["id"]
        for n in range(40)
    ]
    jobs = [bulk_migration.create_job(ctx, who, "approval", 4, 2) for who in (admin, other)]
    threads = [
        threading.Thread(target=bulk_migration.run_job, args=(ctx, who, job))
        for who, job in zip((admin, other), jobs, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    with ctx.uow() as uow:
        migrated = select(AuditRecord.instance_id).where(AuditRecord.action == "instance.migrated")
        moved = Counter(uow.session.scalars(migrated))
    assert moved == dict.fromkeys(started, 1)
    views = [bulk_migration.get_job(ctx, admin, job) for job in jobs]
    assert sum(v["moved"] for v in views) == 40 and all(v["status"] == "done" for v in views)


def test_a_moved_task_takes_the_other_groups_its_new_version_names(ctx, waiting):
    """Version 4 lets the secretariat take the review too: once moved, a secretary may."""
    make_user(ctx, "sam", ["secretariat"])
    files = approval_files("v1")
    files["approval.bpmn"] = files["approval.bpmn"].replace(
        b'<spiffworkflow:property name="due_at" value="review_due"/>',
        b'<spiffworkflow:property name="due_at" value="review_due"/>\n'
        b'          <spiffworkflow:property name="other_groups" value="secretariat"/>',
    )
    assert deployments.deploy(ctx, SYSTEM, files).version == 4
    migration.migrate_instance(ctx, waiting["admin"], waiting["instance_id"], 4)
    with ctx.uow() as uow:
        groups = uow.session.scalars(
            select(HumanTaskGroup.group_name).where(HumanTaskGroup.task_id == waiting["task_id"])
        )
        assert list(groups) == ["secretariat"]


def test_a_job_whose_process_died_is_taken_over_where_it_stopped(ctx, clock, waiting):
    """The server running a job restarted after moving 3 of 10: a scheduler takes the job over
    once its heartbeat is a minute old, exactly once, and moves the other 7."""
    from datetime import timedelta

    from app.db.models import MigrationJob
    from app.services.running import bulk_migration

    admin = waiting["admin"]
    deployments.deploy(ctx, SYSTEM, approval_files("v1"))  # version 4, like version 1
    started = [
        instances.start_instance(ctx, SYSTEM, "approval", {"subject": f"S{n}", "divisor": 4})["id"]
        for n in range(10)
    ]
    job_id = bulk_migration.create_job(ctx, admin, "approval", 4, 2)
    for instance_id in started[:3]:  # what the dead process did before it died
        migration.migrate_instance(ctx, admin, instance_id, 2)
    with ctx.uow(write=True) as uow:
        job = uow.session.get(MigrationJob, job_id)
        job.results = [{"instance_id": i, "outcome": "moved", "message": None} for i in started[:3]]
        job.runner, job.heartbeat_at = "dead-host:1:00000000", ctx.now()
        uow.commit()
    assert bulk_migration.resume_stalled(ctx) == []  # its heartbeat is fresh
    clock.advance(timedelta(seconds=61))
    taken = bulk_migration.resume_stalled(ctx)
    assert taken == [job_id] and bulk_migration.resume_stalled(ctx) == []  # taken once
    wait_until(lambda: bulk_migration.get_job(ctx, admin, job_id)["status"] == "done", timeout=60)
    view = bulk_migration.get_job(ctx, admin, job_id)
    assert (view["done"], view["moved"]) == (10, 10)
    assert [r["instance_id"] for r in view["results"]] == started  # each once, in order
    assert {instances.get_instance(ctx, SYSTEM, i)["version"] for i in started} == {2}
