"""Deploying: versions, unchanged content, and rejections that store nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.db.models import AuditRecord, ProcessFile, ProcessModel, ProcessVersion
from app.errors import Forbidden, InvalidInput
from app.services.modelling import deployments
from app.services.people.users import SYSTEM
from tests.conftest import APPROVAL, make_user, read_fixture


@pytest.fixture
def reviewers(ctx):
    return make_user(ctx, "rita", ["reviewers"])


def _counts(ctx) -> tuple[int, int, int, int]:
    with ctx.uow() as uow:
        return tuple(
            uow.session.scalar(select(func.count()).select_from(model))
            for model in (ProcessModel, ProcessVersion, ProcessFile, AuditRecord)
        )


def test_first_deploy_creates_version_one_and_identical_content_deploys_nothing(ctx, reviewers):
    first = deployments.deploy(ctx, SYSTEM, read_fixture(*APPROVAL))
    assert (first.model_id, first.version, first.created) == ("approval", 1, True)
    before = _counts(ctx)
    again = deployments.deploy(ctx, SYSTEM, read_fixture(*APPROVAL))
    assert (again.version, again.created) == (1, False)
    assert _counts(ctx) == before


def test_changed_content_becomes_a_new_version_and_old_one_is_kept(ctx, reviewers):
    files = read_fixture(*APPROVAL)
    deployments.deploy(ctx, SYSTEM, files)
    files["approval.bpmn"] = files["approval.bpmn"].replace(b"Review the request", b"Review the petition")
    second = deployments.deploy(ctx, SYSTEM, files)
    assert (second.version, second.created) == (2, True)
    versions = deployments.list_versions(ctx, "approval")
    assert [v["version"] for v in versions] == [1, 2]
    assert b"Review the request" in deployments.get_file(ctx, "approval", "approval.bpmn", version=1)
    assert b"Review the petition" in deployments.get_file(ctx, "approval", "approval.bpmn")
    model = deployments.get_model(ctx, "approval")
    assert model["legal_basis"] == "Test regulation No. 1"
    assert model["in_force_from"] == "2024-01-01"


def _problems(ctx, files, **kwargs) -> list[dict]:
    before = _counts(ctx)
    with pytest.raises(InvalidInput) as info:
        deployments.deploy(ctx, SYSTEM, files, **kwargs)
    assert _counts(ctx) == before, "a rejected deployment must store nothing"
    return info.value.details


def test_missing_form_and_bad_script_are_all_reported(ctx, reviewers):
    files = read_fixture("approval.bpmn")
    files["approval.bpmn"] = files["approval.bpmn"].replace(
        b"outcome = 'approved' if approved else 'rejected'", b"outcome = ().__class__.__base__"
    )
    problems = _problems(ctx, files)
    messages = {(p["element_id"], p["message"].split(":")[0]) for p in problems}
    assert ("Script_Record", "script") in messages
    assert (
        "Task_Review",
        "formJsonSchemaFilename 'approval_review.schema.json' is not among the deployed (valid) form files",
    ) in {(p["element_id"], p["message"]) for p in problems}
    assert all(p["file"] == "approval.bpmn" and p["line"] for p in problems)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"<bpmn:definitions", "malformed XML"),
        (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>', "DOCTYPE"),
        (b"<notbpmn/>", ""),
    ],
)
def test_bad_xml_is_refused(ctx, content, expected):
    problems = _problems(ctx, {"broken.bpmn": content})
    assert problems and problems[0]["file"] in ("broken.bpmn", None)
    assert expected in problems[0]["message"]


def test_huge_file_is_refused(ctx):
    problems = _problems(ctx, {"huge.bpmn": b"<a>" + b" " * (3 * 1024 * 1024) + b"</a>"})
    assert "larger than" in problems[0]["message"]


def test_xsd_error_has_line_number(ctx, reviewers):
    files = read_fixture(*APPROVAL)
    files["approval.bpmn"] = files["approval.bpmn"].replace(
        b'<bpmn:endEvent id="EndEvent">', b'<bpmn:endEvent id="EndEvent" bogus="1">'
    )
    problems = _problems(ctx, files)
    assert problems[0]["file"] == "approval.bpmn"
    assert problems[0]["line"] == 45


def test_invalid_json_schema_form_is_refused(ctx, reviewers):
    files = read_fixture(*APPROVAL)
    files["approval_review.schema.json"] = b'{"type": "object", "properties": {"a": {"type": 12}}}'
    problems = _problems(ctx, files)
    assert problems[0]["file"] == "approval_review.schema.json"
    assert "invalid JSON Schema" in problems[0]["message"]


def test_invalid_timer_literal_is_refused(ctx):
    files = read_fixture("timer_intermediate.bpmn")
    text = files["timer_intermediate.bpmn"].decode()
    assert '"PT1H"' in text
    files["timer_intermediate.bpmn"] = text.replace('"PT1H"', '"PT1Q"').encode()
    problems = _problems(ctx, files)
    assert "invalid timer value" in problems[0]["message"]


def test_only_analysts_deploy(ctx, reviewers):
    with pytest.raises(Forbidden):
        deployments.deploy(ctx, reviewers, read_fixture(*APPROVAL))


def test_engine_reserved_ids_are_refused(ctx, reviewers):
    files = read_fixture(*APPROVAL)
    files["approval.bpmn"] = files["approval.bpmn"].replace(b'"StartEvent"', b'"Start"')
    problems = _problems(ctx, files)
    assert {(p["element_id"], p["line"]) for p in problems} == {("Start", 18)}


def test_other_groups_of_a_task_must_exist(ctx, reviewers):
    files = read_fixture(*APPROVAL)
    files["approval.bpmn"] = files["approval.bpmn"].replace(
        b'<spiffworkflow:property name="due_at" value="review_due"/>',
        b'<spiffworkflow:property name="due_at" value="review_due"/>'
        b'<spiffworkflow:property name="other_groups" value="reviewers, nobody"/>',
    )
    before = _counts(ctx)
    with pytest.raises(InvalidInput) as refused:
        deployments.deploy(ctx, SYSTEM, files)
    assert [(p["element_id"], p["message"]) for p in refused.value.details] == [
        ("Task_Review", "other_groups: 'nobody' does not name an existing group")
    ]
    assert _counts(ctx) == before
    make_user(ctx, "nora", ["nobody"])
    assert deployments.deploy(ctx, SYSTEM, files).created


def test_a_form_file_nested_too_deep_is_refused_as_invalid_json(ctx, reviewers):
    files = read_fixture(*APPROVAL)
    files["approval_review.schema.json"] = b"[" * 100_000
    [problem] = _problems(ctx, files)
    assert problem["file"] == "approval_review.schema.json"
    assert problem["message"] == "invalid JSON: JSON nested more than 100 levels deep"
