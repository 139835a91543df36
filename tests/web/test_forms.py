"""Generated forms: start forms, arrays of objects, file attachments, next task, safe Markdown."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from werkzeug.datastructures import MultiDict

from app.services.modelling import deployments
from app.services.people import users
from app.services.people.users import SYSTEM
from app.services.running import instances
from app.services.work import tasks
from app.web.formgen import field_name, parse_form
from app.web.markdown import render
from tests.conftest import APPROVAL, read_fixture

ROOT_FORMS = Path(__file__).resolve().parents[2] / "forms"

REVIEW_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["approved", "comment", "evidence"],
    "properties": {
        "approved": {"type": "boolean"},
        "comment": {"type": "string", "minLength": 1},
        "evidence": {"type": "string", "title": "Evidence"},
        "lines": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["item"],
                "properties": {"item": {"type": "string"}, "qty": {"type": "integer", "minimum": 1}},
            },
        },
        "divisor": {"type": "integer"},
    },
}
REVIEW_UI = {
    "ui:order": ["approved", "comment", "evidence", "lines"],
    "evidence": {"ui:widget": "file", "ui:label": {"kk": "Дәлел", "ru": "Доказательство", "en": "Evidence"}},
    "lines": {"ui:label": {"en": "Lines"}},
}
START_SCHEMA = {
    "type": "object",
    "required": ["subject"],
    "properties": {
        "subject": {"type": "string", "minLength": 1, "title": "Subject"},
        "review_due": {"type": "string", "format": "date-time"},
        "divisor": {"type": "integer"},
    },
}


def _deploy_variant(ctx: Any) -> None:
    files = read_fixture(*APPROVAL)
    files["approval.bpmn"] = files["approval.bpmn"].replace(
        b'<spiffworkflow:property name="title_en" value="Approval"/>',
        b'<spiffworkflow:property name="title_en" value="Approval"/>'
        b'<spiffworkflow:property name="formJsonSchemaFilename" value="approval_start.schema.json"/>',
    )
    files["approval_start.schema.json"] = json.dumps(START_SCHEMA).encode()
    files["approval_review.schema.json"] = json.dumps(REVIEW_SCHEMA).encode()
    files["approval_review.uischema.json"] = json.dumps(REVIEW_UI).encode()
    deployments.deploy(ctx, SYSTEM, files)


def test_start_form_validates_then_starts(browser: Any, seeded: dict, ctx: Any) -> None:
    _deploy_variant(ctx)
    browser.login("alice")
    assert "/start/approval" in browser.get("/start").get_data(as_text=True)
    browser.get("/start/approval")
    response = browser.post("/start/approval", {"divisor": "x"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'id="subject-error"' in page and 'value="x"' in page
    response = browser.post(
        "/start/approval", {"subject": "Roads", "review_due": "2026-03-10T09:30", "divisor": "5"}
    )
    assert response.status_code == 302
    view = instances.get_instance(ctx, SYSTEM, 2)
    assert view["data"]["subject"] == "Roads"
    assert view["data"]["review_due"] == "2026-03-10T09:30:00+05:00"  # Almaty time


def test_rows_and_attachments(browser: Any, seeded: dict, ctx: Any) -> None:
    _deploy_variant(ctx)
    started = instances.start_instance(ctx, SYSTEM, "approval", {"subject": "Files", "divisor": 2})
    task_id = started["tasks"][0]["id"]
    browser.login("alice")
    page = browser.get(f"/tasks/{task_id}").get_data(as_text=True)
    assert 'type="file"' in page and "__INDEX__" in page  # the row template
    form = {
        "approved": "on",
        "comment": "ok",
        "lines.1000.item": "Chairs",
        "lines.1000.qty": "0",
        "lines.1001.item": "",
        "lines.1001.qty": "",
        "evidence": (io.BytesIO(b"%PDF-1.4 minutes"), "minutes.pdf"),
    }
    response = browser.post(f"/tasks/{task_id}", form, content_type="multipart/form-data")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'id="lines.0.qty-error"' in page and "minutes.pdf" in page  # error by row; file kept
    attachment_id = page.split('name="evidence" value="')[1].split('"')[0]
    form = {
        "approved": "on",
        "comment": "ok",
        "lines.0.item": "Chairs",
        "lines.0.qty": "3",
        "evidence": attachment_id,
    }
    assert browser.post(f"/tasks/{task_id}", form).status_code == 302
    data = instances.get_instance(ctx, SYSTEM, started["id"])["data"]
    assert data["lines"] == [{"item": "Chairs", "qty": 3}] and data["evidence"] == attachment_id
    download = browser.get(f"/attachments/{attachment_id}")
    assert download.status_code == 200 and download.data == b"%PDF-1.4 minutes"
    browser.post("/logout")
    browser.login("carol")
    assert browser.get(f"/attachments/{attachment_id}").status_code == 403


def test_the_next_task_of_the_instance_is_offered(
    browser: Any, seeded: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    def complete(ctx: Any, actor: Any, task_id: str, data: Any) -> dict:
        following = {"id": "next-1", "title": "Sign", "titles": {"kk": "Қол қою", "en": "Sign"}}
        return {"instance_id": 1, "status": "running", "next_tasks": [following]}

    monkeypatch.setattr(tasks, "complete_task", complete)
    browser.login("alice")
    browser.get(f"/tasks/{seeded['task_id']}")
    browser.post(f"/tasks/{seeded['task_id']}", {"approved": "on", "comment": "x"})
    page = browser.get("/inbox").get_data(as_text=True)
    assert 'href="/tasks/next-1"' in page and "Қол қою" in page


def test_markdown_is_safe() -> None:
    html = str(
        render("<script>alert(1)</script> **{{ who }}** [x](javascript:alert(1))\n- a\n- b", {"who": "<b>"})
    )
    assert "<script>" not in html and "javascript:" not in html.replace("[x](javascript:", "")
    assert "<strong>&lt;b&gt;</strong>" in html and "<ul>" in html and "<li>a</li>" in html
    assert 'href="javascript' not in html


def test_parse_form_types_and_error_names() -> None:
    schema = {
        "type": "object",
        "properties": {
            "n": {"type": "number"},
            "when": {"type": "string", "format": "date-time"},
            "pick": {"enum": [1, 2]},
            "tags": {"type": "array", "items": {"enum": ["a", "b"]}},
        },
    }
    form = MultiDict(
        [("n", "2.5"), ("when", "2026-03-02T10:00"), ("pick", "2"), ("tags", "a"), ("tags", "b")]
    )
    data, uploads = parse_form(schema, {}, form, MultiDict(), "Asia/Almaty")
    assert data == {"n": 2.5, "when": "2026-03-02T10:00:00+05:00", "pick": 2, "tags": ["a", "b"]}
    assert uploads == []
    assert field_name("$.rows[3].qty") == "rows.3.qty" and field_name("$") == ""


def test_language_is_kept_per_user(browser: Any, seeded: dict, ctx: Any) -> None:
    browser.login("alice")
    browser.post("/language", {"language": "ru"})
    assert users.actor_for(ctx, "alice").language == "ru"
    assert 'lang="ru"' in browser.get("/inbox").get_data(as_text=True)


def test_a_form_rule_is_shown_at_its_field_in_the_users_language(
    browser: Any, seeded: dict, ctx: Any
) -> None:
    files = read_fixture(*APPROVAL)
    schema = json.loads(files["approval_review.schema.json"])
    schema["x-rules"] = [
        {
            "field": "comment",
            "check": 'comment.strip() != "" and len(comment) > 2',
            "message": {
                "kk": "Түсініктеме тым қысқа.",
                "ru": "Комментарий слишком короткий.",
                "en": "Too short.",
            },
        }
    ]
    files["approval_review.schema.json"] = json.dumps(schema).encode()
    deployments.deploy(ctx, SYSTEM, files)
    started = instances.start_instance(ctx, SYSTEM, "approval", {"subject": "Rules", "divisor": 2})
    task_id = started["tasks"][0]["id"]
    browser.login("alice")
    browser.post("/language", {"language": "ru"})
    response = browser.post(f"/tasks/{task_id}", {"approved": "on", "comment": "ok"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'id="comment-error"' in page and "Комментарий слишком короткий." in page
    assert ">ok</textarea>" in page  # what was typed is kept
    assert instances.get_instance(ctx, SYSTEM, started["id"])["tasks"][0]["id"] == task_id
    assert browser.post(f"/tasks/{task_id}", {"approved": "on", "comment": "fine"}).status_code == 302


def test_required_marks_follow_the_server_and_empty_may_mean_none(app: Any) -> None:
    from app.web.formgen import build_fields

    schema = json.loads((ROOT_FORMS / "appeal_registration.schema.json").read_text())
    with app.test_request_context():
        fields = {f.name: f for f in build_fields(schema, {}, MultiDict(), {})}
        # Required by the `if anonymous is false` clause: marked while the box is unticked.
        assert fields["applicant_name"].required and fields["applicant_name"].required_when == [
            {"anonymous": [False]}
        ]
        assert fields["substance"].required and not fields["applicant_email"].required
        ticked = {f.name: f for f in build_fields(schema, {}, MultiDict({"anonymous": "on"}), {})}
        assert not ticked["applicant_name"].required
        assert "data-maxlength" in fields["substance"].attrs and "maxlength" not in fields["substance"].attrs
    start = json.loads((ROOT_FORMS / "rotation_start.schema.json").read_text())
    with app.test_request_context():
        term = {f.name: f for f in build_fields(start, {}, MultiDict(), {})}["term_months"]
        assert not term.required  # "empty means one year": the server accepts it empty
    data, _ = parse_form(
        start, {}, MultiDict({"term_end": "2026-06-30", "term_months": ""}), MultiDict(), "Asia/Almaty"
    )
    assert data["term_months"] is None and data["term_end"] == "2026-06-30"


def test_a_text_over_the_limit_is_refused_at_its_field_not_cut(browser: Any, seeded: dict, ctx: Any) -> None:
    browser.login("alice")
    browser.post("/language", {"language": "kk"})
    long_comment = "x" * 501
    response = browser.post(f"/tasks/{seeded['task_id']}", {"approved": "on", "comment": long_comment})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'id="comment-error"' in page and "Ең көбі 500 таңба." in page
    assert long_comment in page  # kept whole
