"""Instances and human tasks through the service layer, on a real database."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.db.models import AuditRecord, HumanTask, ProcessInstance
from app.errors import Conflict, Forbidden, InvalidInput
from app.services import audit
from app.services.modelling import deployments
from app.services.people.users import SYSTEM
from app.services.running import instance_search, instances
from app.services.work import tasks
from tests.conftest import APPROVAL, make_user, read_fixture


@pytest.fixture
def people(ctx):
    people = {
        "rita": make_user(ctx, "rita", ["reviewers"]),
        "rob": make_user(ctx, "rob", ["reviewers"], leads=["reviewers"]),
        "otto": make_user(ctx, "otto", ["others"]),
        "vera": make_user(ctx, "vera", ["voters"]),
        "vlad": make_user(ctx, "vlad", ["voters"]),
    }
    deployments.deploy(ctx, SYSTEM, read_fixture(*APPROVAL))
    deployments.deploy(ctx, SYSTEM, read_fixture("two_ballots.bpmn"))
    return people


def _start(ctx, data=None):
    return instances.start_instance(ctx, SYSTEM, "approval", {"subject": "S1", "divisor": 4, **(data or {})})


def test_start_creates_task_row_for_the_lane_group(ctx, people):
    due = (ctx.now() + timedelta(days=2)).isoformat()
    view = _start(ctx, {"review_due": due})
    assert view["status"] == "running"
    [task] = view["tasks"]
    assert (task["name"], task["lane"], task["title"]) == ("Task_Review", "reviewers", "Review the request")
    assert task["titles"]["kk"] == "Өтінішті қарау"
    assert task["due_at"] == due.replace("+00:00", "+00:00")
    available = tasks.list_tasks(ctx, people["rita"], scope="available")
    assert [t["id"] for t in available] == [task["id"]]
    assert tasks.list_tasks(ctx, people["otto"], scope="available") == []
    with pytest.raises(Forbidden):
        tasks.list_tasks(ctx, people["rita"], scope="all")


def test_claim_complete_and_finish(ctx, people):
    task_id = _start(ctx)["tasks"][0]["id"]
    rita, rob = people["rita"], people["rob"]
    tasks.claim_task(ctx, rita, task_id)
    assert [t["id"] for t in tasks.list_tasks(ctx, rita, scope="mine")] == [task_id]
    assert tasks.list_tasks(ctx, rob, scope="available") == []
    with pytest.raises(Conflict):
        tasks.claim_task(ctx, rob, task_id)
    with pytest.raises(Forbidden):
        tasks.complete_task(ctx, rob, task_id, {"approved": True, "comment": "ok"})
    result = tasks.complete_task(ctx, rita, task_id, {"approved": True, "comment": "fine"})
    assert result["status"] == "complete"
    view = instances.get_instance(ctx, SYSTEM, result["instance_id"])
    assert view["data"]["outcome"] == "approved"
    assert view["data"]["reviewers_now"] == ["rita", "rob"]
    assert view["data"]["ratio"] == 25
    assert view["tasks"] == []
    with pytest.raises(Conflict):
        tasks.complete_task(ctx, rita, task_id, {"approved": True, "comment": "again"})
    actions = [h["action"] for h in instances.history(ctx, SYSTEM, result["instance_id"])]
    assert actions == ["instance.started", "task.claimed", "task.completed"]


def test_outsider_cannot_complete_and_lead_can_assign(ctx, people):
    task_id = _start(ctx)["tasks"][0]["id"]
    with pytest.raises(Forbidden):
        tasks.complete_task(ctx, people["otto"], task_id, {"approved": True, "comment": "x"})
    with pytest.raises(Forbidden):
        tasks.assign_task(ctx, people["rita"], task_id, "rob")
    with pytest.raises(InvalidInput):
        tasks.assign_task(ctx, people["rob"], task_id, "otto")
    assigned = tasks.assign_task(ctx, people["rob"], task_id, "rita")
    assert assigned["assignee"] == "rita"
    tasks.unclaim_task(ctx, people["rob"], task_id)
    assert tasks.get_task(ctx, people["rita"], task_id)["assignee"] is None


def test_invalid_form_data_gives_one_error_per_field_and_changes_nothing(ctx, people):
    view = _start(ctx)
    task_id = view["tasks"][0]["id"]
    with ctx.uow() as uow:
        state_before = uow.session.get(ProcessInstance, view["id"]).state_json
    with pytest.raises(InvalidInput) as info:
        tasks.complete_task(ctx, people["rita"], task_id, {"approved": "yes", "amount": -1, "extra": 1})
    fields = {d["field"] for d in info.value.details}
    assert fields == {"$.approved", "$.amount", "$.comment", "$"}
    with ctx.uow() as uow:
        assert uow.session.get(ProcessInstance, view["id"]).state_json == state_before
        assert uow.session.get(HumanTask, task_id) is not None


def test_failure_in_the_middle_of_a_completion_leaves_everything_as_before(ctx, people, monkeypatch):
    view = _start(ctx)
    task_id = view["tasks"][0]["id"]
    with ctx.uow() as uow:
        before = uow.session.get(ProcessInstance, view["id"]).state_json
        audits_before = len(list(uow.session.scalars(select(AuditRecord))))

    def broken_record(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(audit, "record", broken_record)
    with pytest.raises(RuntimeError):
        tasks.complete_task(ctx, people["rita"], task_id, {"approved": True, "comment": "ok"})
    monkeypatch.undo()
    with ctx.uow() as uow:
        instance = uow.session.get(ProcessInstance, view["id"])
        assert (instance.status, instance.state_json) == ("running", before)
        assert uow.session.get(HumanTask, task_id) is not None
        assert len(list(uow.session.scalars(select(AuditRecord)))) == audits_before
    # and the task can still be completed afterwards
    assert (
        tasks.complete_task(ctx, people["rita"], task_id, {"approved": False, "comment": "no"})["status"]
        == "complete"
    )


def test_script_error_puts_instance_in_error_and_keeps_the_message(ctx, people):
    view = _start(ctx, {"divisor": 0})
    task_id = view["tasks"][0]["id"]
    result = tasks.complete_task(ctx, people["rita"], task_id, {"approved": True, "comment": "ok"})
    assert result["status"] == "error"
    failed = instances.get_instance(ctx, SYSTEM, view["id"])
    assert failed["error"]["element_id"] == "Script_Record"
    assert "ZeroDivisionError" in failed["error"]["message"] or "division" in failed["error"]["message"]
    assert failed["tasks"] == []
    again = instances.retry_instance(ctx, SYSTEM, view["id"])
    assert again["status"] == "error"


def test_retry_after_the_cause_is_fixed(ctx, people):
    from app.services.people import users

    make_user(ctx, "ann", [])
    deployments.deploy(ctx, SYSTEM, read_fixture("fragile.bpmn"))
    view = instances.start_instance(ctx, SYSTEM, "fragile", {})
    assert view["status"] == "error"
    assert view["error"]["element_id"] == "Script_PickAuditor"
    with pytest.raises(Forbidden):
        instances.retry_instance(ctx, people["rita"], view["id"])
    users.set_group_members(ctx, SYSTEM, "auditors", ["ann"])
    retried = instances.retry_instance(ctx, SYSTEM, view["id"])
    assert retried["status"] == "running"
    assert retried["data"]["auditor"] == "ann"
    assert [t["name"] for t in retried["tasks"]] == ["Task_Check"]


def test_cancel_removes_open_tasks(ctx, people):
    view = _start(ctx)
    cancelled = instances.cancel_instance(ctx, SYSTEM, view["id"])
    assert cancelled["status"] == "cancelled"
    assert cancelled["tasks"] == []
    with pytest.raises(Conflict):
        instances.cancel_instance(ctx, SYSTEM, view["id"])
    assert instance_search.list_instances(ctx, SYSTEM, status="cancelled")[0]["id"] == view["id"]


def test_instances_stay_on_their_version(ctx, people):
    old = _start(ctx)
    files = read_fixture(*APPROVAL)
    files["approval.bpmn"] = files["approval.bpmn"].replace(b"'approved' if approved", b"'yes' if approved")
    deployments.deploy(ctx, SYSTEM, files)
    new = _start(ctx)
    assert (old["version"], new["version"]) == (1, 2)
    tasks.complete_task(ctx, people["rita"], old["tasks"][0]["id"], {"approved": True, "comment": "a"})
    tasks.complete_task(ctx, people["rita"], new["tasks"][0]["id"], {"approved": True, "comment": "b"})
    assert instances.get_instance(ctx, SYSTEM, old["id"])["data"]["outcome"] == "approved"
    assert instances.get_instance(ctx, SYSTEM, new["id"])["data"]["outcome"] == "yes"


def test_two_threads_completing_two_ballots_of_one_instance_keep_both(ctx, people):
    for _round in range(3):
        view = instances.start_instance(ctx, SYSTEM, "two_ballots", {})
        ids = {t["name"]: t["id"] for t in view["tasks"]}
        barrier = threading.Barrier(2)
        errors: list[BaseException] = []

        def vote(actor, task_id, value, barrier=barrier, errors=errors):
            try:
                barrier.wait()
                tasks.complete_task(ctx, actor, task_id, {f"vote_{value}": value})
            except BaseException as exc:  # reported below
                errors.append(exc)

        threads = [
            threading.Thread(target=vote, args=(people["vera"], ids["Task_BallotA"], "a")),
            threading.Thread(target=vote, args=(people["vlad"], ids["Task_BallotB"], "b")),
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        final = instances.get_instance(ctx, SYSTEM, view["id"])
        assert final["status"] == "complete"
        assert final["data"]["vote_a"] == "a" and final["data"]["vote_b"] == "b"


def test_task_views_of_a_start_and_a_completion_match_the_stored_rows(ctx, people):
    """The start and completion answers are built from the rows as written, not read back: they
    must say exactly what a later read says (times in UTC, titles, assignee)."""
    due = "2026-03-04T18:00:00+05:00"
    view = _start(ctx, {"review_due": due})
    listed = tasks.list_tasks(ctx, SYSTEM, scope="all", instance_id=view["id"])
    assert view["tasks"] == listed
    assert listed[0]["due_at"] == "2026-03-04T13:00:00+00:00"

    ballots = instances.start_instance(ctx, SYSTEM, "two_ballots", {})
    ids = {t["name"]: t["id"] for t in ballots["tasks"]}
    assert ballots["tasks"] == tasks.list_tasks(ctx, SYSTEM, scope="all", instance_id=ballots["id"])
    done = tasks.complete_task(ctx, people["vera"], ids["Task_BallotA"], {"vote_a": "a"})
    assert done["status"] == "running"
    assert [t["id"] for t in done["next_tasks"]] == [ids["Task_BallotB"]]
    assert done["next_tasks"] == tasks.list_tasks(
        ctx, people["vera"], scope="available", instance_id=ballots["id"]
    )


def test_a_save_over_a_row_changed_underneath_fails_and_changes_nothing(ctx, people):
    """The instance row's version guards the Core UPDATE as the ORM's version check did."""
    from sqlalchemy import update
    from sqlalchemy.orm.exc import StaleDataError

    from app.engine import runner
    from app.services.running.instance_store import load_workflow, lock_task_instance, run_step

    view = _start(ctx)
    task_id = view["tasks"][0]["id"]
    with ctx.uow(write=True) as uow:
        instance, open_tasks = lock_task_instance(uow, task_id)
        workflow = load_workflow(ctx, uow, instance)
        # As another writer would (a Core statement: the loaded object does not follow it).
        rows = ProcessInstance.__table__
        uow.session.execute(
            update(rows).where(rows.c.id == instance.id).values(row_version=rows.c.row_version + 1)
        )
        with pytest.raises(StaleDataError):
            run_step(
                ctx,
                uow,
                instance,
                workflow,
                lambda w: runner.complete_task(w, task_id, {"approved": True, "comment": "ok"}),
                tasks=open_tasks,
            )
    with ctx.uow() as uow:
        assert uow.session.get(ProcessInstance, view["id"]).status == "running"
        assert uow.session.get(HumanTask, task_id) is not None


def test_a_completed_task_gives_409_and_an_unknown_one_too(ctx, people):
    task_id = _start(ctx)["tasks"][0]["id"]
    tasks.complete_task(ctx, people["rita"], task_id, {"approved": True, "comment": "ok"})
    for missing in (task_id, "00000000-0000-0000-0000-000000000000"):
        with pytest.raises(Conflict):
            tasks.complete_task(ctx, people["rita"], missing, {"approved": True, "comment": "ok"})


def test_the_audit_record_keeps_a_date_in_the_data_as_text(ctx, people):
    moment = ctx.now()
    view = instances.start_instance(ctx, SYSTEM, "two_ballots", {"opened_at": moment})
    [started] = instances.history(ctx, SYSTEM, view["id"])
    assert started["action"] == "instance.started"
    assert started["details"]["data"] == {"opened_at": str(moment)}
