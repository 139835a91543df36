"""Form rules over HTTP: a broken rule is a 422 like a schema error, stores nothing, and names
the field; bad rules are refused at deploy, located by file and element."""

from __future__ import annotations

import json

from app.services.modelling import deployments
from app.services.people.users import SYSTEM
from tests.api.conftest import expect_error
from tests.api.test_api import _multipart, _start, _task_id
from tests.conftest import APPROVAL, read_fixture

NOT_BLANK = {
    "field": "comment",
    "check": 'comment.strip() != ""',
    "message": {"kk": "Түсініктеме бос.", "ru": "Комментарий пуст.", "en": "The comment is blank."},
}
AMOUNT_CAP = {
    "field": "amount",
    "check": "amount is None or amount <= cap",
    "message": {"kk": "Ең көбі {{ cap }}.", "ru": "Не больше {{ cap }}.", "en": "At most {{ cap }}."},
}


def bundle(schema_rules: list | None = None, task_rules: list | None = None) -> dict[str, bytes]:
    files = read_fixture(*APPROVAL)
    schema = json.loads(files["approval_review.schema.json"])
    if schema_rules is not None:
        schema["x-rules"] = schema_rules
    files["approval_review.schema.json"] = json.dumps(schema).encode()
    if task_rules is not None:
        files["approval_review.rules.json"] = json.dumps({"x-rules": task_rules}).encode()
        files["approval.bpmn"] = files["approval.bpmn"].replace(
            b'<spiffworkflow:property name="due_at" value="review_due"/>',
            b'<spiffworkflow:property name="due_at" value="review_due"/>\n'
            b'<spiffworkflow:property name="formRulesFilename" value="approval_review.rules.json"/>',
        )
    return files


def test_a_broken_rule_is_422_naming_the_field_and_changes_nothing(api, ctx, people):
    deployments.deploy(ctx, SYSTEM, bundle([NOT_BLANK], [AMOUNT_CAP]))
    instance = _start(api, data={"cap": 100})
    task_id = _task_id(instance)
    complete = f"/tasks/{task_id}/complete"
    body = expect_error(
        api.post(complete, user="rita", json={"data": {"approved": True, "comment": "   ", "amount": 101}}),
        422,
        "invalid_input",
    )
    assert body["details"] == [
        {
            "field": "$.comment",
            "message": "The comment is blank.",
            "messages": {"kk": "Түсініктеме бос.", "ru": "Комментарий пуст.", "en": "The comment is blank."},
        },
        {
            "field": "$.amount",
            "message": "At most 100.",
            "messages": {"kk": "Ең көбі 100.", "ru": "Не больше 100.", "en": "At most 100."},
        },
    ]
    after = api.get(f"/process-instances/{instance['id']}", user="ana").get_json()
    assert after["data"] == instance["data"] and [t["id"] for t in after["tasks"]] == [task_id]
    # An optional field left out is None to the rule, so it holds.
    done = api.post(complete, user="rita", json={"data": {"approved": True, "comment": "fine"}})
    assert done.status_code == 200, done.get_json()


def test_a_rule_that_cannot_be_checked_counts_as_broken_and_says_why(api, ctx, people):
    deployments.deploy(ctx, SYSTEM, bundle(task_rules=[AMOUNT_CAP]))
    instance = _start(api)  # no 'cap' in the data: the check fails to run
    body = expect_error(
        api.post(
            f"/tasks/{_task_id(instance)}/complete",
            user="rita",
            json={"data": {"approved": True, "comment": "ok", "amount": 5}},
        ),
        422,
        "invalid_input",
    )
    [error] = body["details"]
    assert error["field"] == "$.amount" and "cap" in error["reason"]


def test_bad_rules_are_refused_at_deploy_with_their_place(api, ctx, people):
    cases = [
        (
            bundle([{**NOT_BLANK, "check": "comment.strip( != ''"}]),
            "approval_review.schema.json",
            "x-rules[0]: check",
        ),
        (
            bundle([{**NOT_BLANK, "field": "nothing"}]),
            "approval_review.schema.json",
            "not a property of the form",
        ),
        (
            bundle([{**NOT_BLANK, "message": {"en": "x"}}]),
            "approval_review.schema.json",
            "each of kk, ru, en",
        ),
        (bundle([{**NOT_BLANK, "check": "__import__('os')"}]), "approval_review.schema.json", "x-rules[0]"),
        (
            bundle(task_rules=[{**AMOUNT_CAP, "field": "nothing"}]),
            "approval.bpmn",
            "approval_review.rules.json",
        ),
    ]
    for files, file, fragment in cases:
        body = expect_error(
            api.post("/process-models", user="ana", **_multipart(files)), 422, "invalid_input"
        )
        [problem] = body["details"]
        assert problem["file"] == file and fragment in problem["message"], problem
        if file.endswith(".bpmn"):
            assert problem["element_id"] == "Task_Review" and problem["line"]
    assert api.get("/process-models", user="ana").get_json() == {"process_models": []}
