"""The models pages and the editor's calls through the Flask test client: who may see them, the
versions, the zip, the comparison, drafts, validation, deploys and the form preview."""

from __future__ import annotations

import io
import json
import re
import zipfile
from typing import Any

import pytest

from app.services.modelling import deployments
from tests.conftest import APPROVAL, FIXTURES, make_user, read_fixture


def _config(page: str) -> dict[str, Any]:
    found = re.search(r'<script type="application/json" id="editor-config">(.*?)</script>', page, re.S)
    assert found, "no editor configuration on the page"
    return json.loads(found.group(1))


def _call(browser: Any, method: str, path: str, body: Any = None, token: str | None = None):
    headers = {"X-CSRF-Token": browser.token if token is None else token}
    return browser.client.open(path, method=method, json=body, headers=headers)


def _files_text() -> dict[str, str]:
    return {name: content.decode() for name, content in read_fixture(*APPROVAL).items()}


@pytest.fixture
def analyst(browser: Any, seeded: dict, ctx: Any) -> Any:
    make_user(ctx, "ana", ["analysts"])
    browser.login("ana")
    return browser


def test_only_analysts_and_administrators_see_the_models(browser: Any, seeded: dict) -> None:
    browser.login("alice")
    assert "/models" not in browser.get("/inbox").get_data(as_text=True)
    for path in (
        "/models",
        "/models/approval",
        "/models/approval/compare",
        "/editor/approval",
        "/editor/new",
    ):
        assert browser.get(path).status_code == 403, path
    refused = _call(browser, "POST", "/editor/api/validate", {"files": _files_text()})
    assert refused.status_code == 403 and refused.get_json()["error"] == "forbidden"
    browser.login("admin")
    assert 'href="/models"' in browser.get("/inbox").get_data(as_text=True)


def test_models_list_versions_and_zip(analyst: Any, ctx: Any) -> None:
    page = analyst.get("/models").get_data(as_text=True)
    assert 'data-model="approval"' in page and "Test regulation No. 1" in page
    assert 'data-model="approval"' not in analyst.get("/models?q=zzz").get_data(as_text=True)
    page = analyst.get("/models/approval").get_data(as_text=True)
    assert 'data-version="1"' in page and 'href="/editor/approval"' in page
    download = analyst.get("/models/approval/versions/1.zip")
    assert download.status_code == 200 and download.mimetype == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(download.data))
    assert sorted(archive.namelist()) == sorted(APPROVAL)
    assert analyst.get("/models/approval/versions/7.zip").status_code == 404


def test_the_editor_opens_the_newest_version_then_the_analysts_draft(analyst: Any, ctx: Any) -> None:
    config = _config(analyst.get("/editor/approval").get_data(as_text=True))
    assert config["base_version"] == 1 and config["main_file"] == "approval.bpmn" and config["draft"] is None
    assert set(config["files"]) == set(APPROVAL) and "reviewers" in config["groups"]
    assert config["urls"]["draft"] == "/editor/api/drafts/approval" and "approval" in config["processes"]
    files = config["files"] | {
        "approval.bpmn": config["files"]["approval.bpmn"].replace("Review the", "Check the")
    }
    refused = _call(analyst, "PUT", "/editor/api/drafts/approval", {"files": files}, token="forged")
    assert refused.status_code == 400 and refused.is_json
    saved = _call(analyst, "PUT", "/editor/api/drafts/approval", {"files": files, "base_version": 1})
    assert saved.status_code == 200 and "saved_at" in saved.get_json()
    config = _config(analyst.get("/editor/approval").get_data(as_text=True))
    assert "Check the request" in config["files"]["approval.bpmn"] and config["draft"]["by"] == "ana"
    # Another analyst opening the model sees the newest version, and whose draft there is
    analyst.login("admin")
    other = _config(analyst.get("/editor/approval").get_data(as_text=True))
    assert "Check the request" not in other["files"]["approval.bpmn"]
    assert [d["by"] for d in other["others_drafts"]] == ["ana"]
    assert "ana" in analyst.get("/models/approval").get_data(as_text=True)
    analyst.login("ana")
    assert _call(analyst, "DELETE", "/editor/api/drafts/approval").status_code == 204
    assert _config(analyst.get("/editor/approval").get_data(as_text=True))["draft"] is None
    bad = _call(analyst, "PUT", "/editor/api/drafts/approval", {"files": {"../x.bpmn": "<x/>"}})
    assert bad.status_code == 422 and bad.get_json()["details"][0]["field"] == "files.../x.bpmn"


def test_validate_then_deploy_with_a_comment_from_the_editor(analyst: Any, ctx: Any) -> None:
    files = _files_text()
    broken = files | {"approval.bpmn": files["approval.bpmn"].replace("ratio = 100 // divisor", "import os")}
    checked = _call(analyst, "POST", "/editor/api/validate", {"files": broken}).get_json()
    assert checked["valid"] is False and checked["problems"][0]["element_id"] == "Script_Record"
    assert checked["problems"][0]["line"] == 37
    changed = files | {"approval.bpmn": files["approval.bpmn"].replace("Review the request", "Check it")}
    _call(analyst, "PUT", "/editor/api/drafts/approval", {"files": changed, "base_version": 1})
    no_comment = _call(
        analyst, "POST", "/editor/api/deploy", {"files": changed, "base_version": 1, "comment": " "}
    )
    assert no_comment.status_code == 422 and no_comment.get_json()["details"][0]["field"] == "comment"
    long_comment = {"files": changed, "base_version": 1, "comment": "x" * 2001}
    too_long = _call(analyst, "POST", "/editor/api/deploy", long_comment)
    assert too_long.status_code == 422 and too_long.get_json()["details"] == [
        {"field": "comment", "message": "at most 2000 characters"}
    ]
    refused = _call(
        analyst, "POST", "/editor/api/deploy", {"files": broken, "base_version": 1, "comment": "x"}
    )
    assert refused.status_code == 422 and deployments.get_model(ctx, "approval")["version"] == 1
    done = _call(
        analyst, "POST", "/editor/api/deploy", {"files": changed, "base_version": 1, "comment": "Wording"}
    )
    assert done.status_code == 201 and done.get_json()["version"] == 2
    assert deployments.get_model(ctx, "approval")["comment"] == "Wording"
    assert (
        _config(analyst.get("/editor/approval").get_data(as_text=True))["draft"] is None
    )  # deployed with it
    stale = _call(
        analyst, "POST", "/editor/api/deploy", {"files": files, "base_version": 1, "comment": "Old"}
    )
    assert stale.status_code == 409 and stale.get_json()["details"] == [
        {
            "model_id": "approval",
            "newest_version": 2,
            "base_version": 1,
            "compare_url": "/models/approval/compare?to=2&from=1",
        }
    ]
    compare = analyst.get("/models/approval/compare?from=1&to=2").get_data(as_text=True)
    assert (
        'data-element="Task_Review"' in compare and "Check it" in compare and 'id="compare-config"' in compare
    )


def test_the_form_preview_is_the_task_pages_form_in_each_language(analyst: Any) -> None:
    files = _files_text()
    body = {
        "schema": files["approval_review.schema.json"],
        "ui_schema": files["approval_review.uischema.json"],
    }
    shown = _call(analyst, "POST", "/editor/api/form-preview", body | {"lang": "en", "data": {}}).get_json()
    assert shown["errors"] == [] and 'name="comment"' in shown["html"] and "<textarea" in shown["html"]
    tried = _call(
        analyst,
        "POST",
        "/editor/api/form-preview",
        body | {"lang": "ru", "submit": True, "data": [["approved", "on"], ["amount", "-3"]]},
    ).get_json()
    fields = {e["field"]: e["message"] for e in tried["errors"]}
    assert set(fields) == {"$.comment", "$.amount"}
    assert 'class="field-error"' in tried["html"] and fields["$.amount"] in tried["html"]
    broken = _call(analyst, "POST", "/editor/api/form-preview", {"schema": "{", "lang": "en"})
    assert broken.status_code == 400 and "not valid JSON" in broken.get_json()["message"]
    deep = _call(analyst, "POST", "/editor/api/form-preview", {"schema": '{"a":' * 5000, "lang": "en"})
    assert deep.status_code == 400 and "nested more than 100 levels" in deep.get_json()["message"]


def test_a_file_made_elsewhere_is_imported_as_a_draft_then_deployed(analyst: Any, ctx: Any) -> None:
    content = (FIXTURES / "elsewhere" / "camunda_one_task.bpmn").read_bytes()
    sent = analyst.post(
        "/models/import",
        {"files": (io.BytesIO(content), "leave.bpmn")},
        content_type="multipart/form-data",
    )
    assert sent.status_code == 302 and sent.headers["Location"].endswith("/editor/Process_Leave")
    config = _config(analyst.get("/editor/Process_Leave").get_data(as_text=True))
    assert config["files"] == {"leave.bpmn": content.decode()} and config["base_version"] is None
    assert config["draft"]["by"] == "ana" and config["main_file"] == "leave.bpmn"
    deployed = _call(
        analyst,
        "POST",
        "/editor/api/deploy",
        {"files": config["files"], "base_version": None, "comment": "Import"},
    ).get_json()
    assert deployed["id"] == "Process_Leave" and deployed["model_url"] == "/models/Process_Leave"
    assert [w["element_id"] for w in deployed["warnings"]] == ["Activity_Approve"]
    refused = analyst.post(
        "/models/import", {"files": (io.BytesIO(b"<x/>"), "x.txt")}, content_type="multipart/form-data"
    )
    assert refused.status_code == 302 and refused.headers["Location"].endswith("/models")
    assert "x.txt" in analyst.get("/models").get_data(as_text=True)


def test_try_submit_in_the_preview_runs_the_forms_own_rules_in_the_chosen_language(analyst: Any) -> None:
    schema = {
        "type": "object",
        "properties": {"votes": {"type": "integer", "title": "Votes"}, "total": {"type": "integer"}},
        "x-rules": [
            {
                "field": "votes",
                "check": "votes is None or total is None or votes <= total",
                "message": {
                    "kk": "Дауыс {{ total }}-дан аспайды",
                    "ru": "Не больше {{ total }}",
                    "en": "At most {{ total }}",
                },
            }
        ],
    }
    body = {"schema": json.dumps(schema), "submit": True}
    broken = _call(
        analyst,
        "POST",
        "/editor/api/form-preview",
        body | {"lang": "ru", "data": {"votes": "7", "total": "5"}},
    ).get_json()
    assert broken["errors"] == [{"field": "$.votes", "message": "Не больше 5"}]
    kept = _call(
        analyst,
        "POST",
        "/editor/api/form-preview",
        body | {"lang": "ru", "data": {"votes": "3", "total": "5"}},
    ).get_json()
    assert kept["errors"] == []
    schema["x-rules"][0]["check"] = "import os"
    malformed = _call(
        analyst,
        "POST",
        "/editor/api/form-preview",
        {"schema": json.dumps(schema), "submit": True, "data": {}},
    ).get_json()
    assert [e["field"] for e in malformed["errors"]] == ["$"] and "x-rules" in malformed["errors"][0][
        "message"
    ]
