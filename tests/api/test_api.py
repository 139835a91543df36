"""The REST contract under /api/v1 through the Flask test client. Every response of the `api`
client is also checked against the OpenAPI document (status listed, body valid)."""

from __future__ import annotations

import io
import json
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app import create_app
from app.db.models import AuditRecord, ProcessFile, ProcessModel, ProcessVersion, User
from app.services.modelling import deployments
from app.services.people import users
from app.services.people.users import SYSTEM
from app.services.running import instances
from tests.api.conftest import PASSWORD, expect_error
from tests.conftest import APPROVAL, FIXTURES, read_fixture

# --- helpers -------------------------------------------------------------------------------------


def _multipart(files: dict[str, bytes], **fields: str) -> dict:
    data: dict = {"files": [(io.BytesIO(content), name) for name, content in files.items()]}
    data.update(fields)
    return {"data": data, "content_type": "multipart/form-data"}


def _start(api, user: str = "ana", data: dict | None = None, model: str = "approval") -> dict:
    response = api.post(
        "/process-instances",
        user=user,
        json={"process_model": model, "data": {"subject": "S1", "divisor": 4, **(data or {})}},
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def _task_id(instance: dict) -> str:
    [task] = instance["tasks"]
    return task["id"]


def _stored_counts(ctx) -> tuple[int, ...]:
    with ctx.uow() as uow:
        return tuple(
            uow.session.scalar(select(func.count()).select_from(model))
            for model in (ProcessModel, ProcessVersion, ProcessFile, AuditRecord)
        )


# --- health and authentication -------------------------------------------------------------------


def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_token_with_good_password_signs_in(api, people, app):
    response = api.post("/auth/token", json={"username": "rob", "password": PASSWORD})
    assert response.status_code == 200
    body = response.get_json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == app.extensions["services"].settings.token_max_age_seconds
    me = api.get("/me", headers={"Authorization": f"Bearer {body['token']}"})
    assert me.status_code == 200
    assert me.get_json() == {
        "username": "rob",
        "display_name": "rob",
        "language": "kk",
        "groups": ["reviewers"],
        "lead_of": ["reviewers"],
        "is_admin": False,
    }


def test_me_of_an_administrator(api, people):
    body = api.get("/me", user="admin").get_json()
    assert body["is_admin"] is True
    assert body["groups"] == ["admins", "analysts"]
    assert body["lead_of"] == []


@pytest.mark.parametrize(("username", "password"), [("rob", "wrong-password"), ("nobody", PASSWORD)])
def test_token_with_bad_credentials_is_401_with_the_same_message(api, people, username, password):
    response = api.post("/auth/token", json={"username": username, "password": password})
    body = expect_error(response, 401, "unauthorized")
    assert body == {"error": "unauthorized", "message": "wrong username or password", "details": []}
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_token_request_without_fields_is_422_and_without_json_is_400(api, people):
    body = expect_error(api.post("/auth/token", json={"username": "rob"}), 422, "invalid_input")
    assert body["details"] == [{"field": "password", "message": "required"}]  # the one missing
    expect_error(api.post("/auth/token", data="username=rob", content_type="text/plain"), 400, "bad_request")
    expect_error(api.post("/auth/token", json=["rob", PASSWORD]), 400, "bad_request")


def test_inactive_user_gets_no_token_and_loses_the_one_he_has(api, ctx, people):
    token = api.token("otto")
    with ctx.uow(write=True) as uow:
        uow.session.scalars(select(User).where(User.username == "otto")).one().is_active = False
        uow.commit()
    expect_error(
        api.post("/auth/token", json={"username": "otto", "password": PASSWORD}), 401, "unauthorized"
    )
    expect_error(api.get("/me", headers={"Authorization": f"Bearer {token}"}), 401, "unauthorized")


@pytest.mark.parametrize(
    "header",
    [None, "", "Bearer", "Bearer ", "Basic cm9iOnBhc3N3b3JkMTIz", "Bearer not-a-token", "Token abc"],
)
def test_missing_or_bad_token_is_401(api, people, header):
    headers = {} if header is None else {"Authorization": header}
    response = api.get("/me", headers=headers)
    expect_error(response, 401, "unauthorized")
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="api"'


def test_tampered_token_is_401(api, people):
    token = api.token("rita")
    forged = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    expect_error(api.get("/me", headers={"Authorization": f"Bearer {forged}"}), 401, "unauthorized")


def test_expired_token_is_401(settings, clock, ctx, people):
    expiring = create_app(replace(settings, token_max_age_seconds=-1), clock=clock)
    try:
        token = users.issue_token(ctx, people["rita"])
        response = expiring.test_client().get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
        body = expect_error(response, 401, "unauthorized")
        assert "expired" in body["message"]
    finally:
        expiring.extensions["db_engine"].dispose()


def test_a_token_accepted_before_expires_all_the_same(api, people, monkeypatch):
    """A verified token is remembered, but never past its age limit."""
    import time

    token = api.token("rita")
    headers = {"Authorization": f"Bearer {token}"}
    assert api.get("/me", headers=headers).status_code == 200
    max_age = api.ctx.settings.token_max_age_seconds
    later = time.time() + max_age + 60
    monkeypatch.setattr(time, "time", lambda: later)
    body = expect_error(api.get("/me", headers=headers), 401, "unauthorized")
    assert "expired" in body["message"]


PROTECTED = [
    ("GET", "/me"),
    ("GET", "/users"),
    ("POST", "/users"),
    ("GET", "/groups/reviewers/members"),
    ("PUT", "/groups/reviewers/members"),
    ("GET", "/process-models"),
    ("POST", "/process-models"),
    ("GET", "/process-models/approval"),
    ("GET", "/process-models/approval/versions"),
    ("GET", "/process-models/approval/files/approval.bpmn"),
    ("GET", "/process-instances"),
    ("POST", "/process-instances"),
    ("GET", "/process-instances/1"),
    ("GET", "/process-instances/1/history"),
    ("POST", "/process-instances/1/cancel"),
    ("POST", "/process-instances/1/retry"),
    ("GET", "/tasks"),
    ("GET", "/tasks/x"),
    ("POST", "/tasks/x/claim"),
    ("POST", "/tasks/x/unclaim"),
    ("POST", "/tasks/x/assign"),
    ("POST", "/tasks/x/complete"),
    ("POST", "/messages"),
]


@pytest.mark.parametrize(("method", "path"), PROTECTED)
def test_every_endpoint_but_token_needs_a_token(api, method, path):
    """Without a token (and with an empty JSON body) every protected endpoint answers 401."""
    expect_error(api.request(method, path, json={}), 401, "unauthorized")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/users"),
        ("PUT", "/groups/reviewers/members"),
        ("POST", "/process-instances"),
        ("POST", "/tasks/x/assign"),
        ("POST", "/messages"),
        ("POST", "/tasks/x/complete"),
    ],
)
def test_missing_token_wins_over_a_bad_body(api, method, path):
    """Someone without a token learns nothing about the body rules: 401, not 400."""
    expect_error(api.request(method, path, data="not json", content_type="text/plain"), 401, "unauthorized")


# --- users and groups ----------------------------------------------------------------------------


def test_only_administrators_list_users(api, people):
    response = api.get("/users", user="admin")
    assert response.status_code == 200
    listed = response.get_json()["users"]
    assert [u["username"] for u in listed] == ["admin", "ana", "otto", "rita", "rob"]
    assert listed[3] == {
        "username": "rita",
        "display_name": "rita",
        "language": "kk",
        "groups": ["reviewers"],
        "is_active": True,
    }
    expect_error(api.get("/users", user="rita"), 403, "forbidden")


def test_create_user_then_sign_in(api, people):
    response = api.post(
        "/users",
        user="admin",
        json={
            "username": "new.user",
            "password": "long-enough",
            "display_name": "New User",
            "groups": ["reviewers", "fresh_group"],
            "language": "ru",
        },
    )
    assert response.status_code == 201
    assert response.get_json() == {
        "username": "new.user",
        "display_name": "New User",
        "language": "ru",
        "groups": ["fresh_group", "reviewers"],
        "is_active": True,
    }
    token = api.post("/auth/token", json={"username": "new.user", "password": "long-enough"})
    assert token.status_code == 200
    members = api.get("/groups/fresh_group/members", user="admin").get_json()["members"]
    assert members == ["new.user"]


def test_create_user_defaults(api, people):
    body = api.post("/users", user="admin", json={"username": "plain", "password": "long-enough"}).get_json()
    assert (body["display_name"], body["language"], body["groups"]) == ("plain", "kk", [])


def test_duplicate_user_is_409(api, people):
    body = expect_error(
        api.post("/users", user="admin", json={"username": "rita", "password": "long-enough"}),
        409,
        "conflict",
    )
    assert "rita" in body["message"]


def test_invalid_user_is_422_with_one_detail_per_field_and_creates_nothing(api, people):
    response = api.post(
        "/users", user="admin", json={"username": "bad name!", "password": "short", "language": "de"}
    )
    body = expect_error(response, 422, "invalid_input")
    assert {d["field"] for d in body["details"]} == {"username", "password", "language"}
    body = expect_error(
        api.post(
            "/users", user="admin", json={"username": "x", "password": "long-enough", "groups": "reviewers"}
        ),
        422,
        "invalid_input",
    )
    assert body["details"] == [{"field": "groups", "message": "list of strings"}]
    assert len(api.get("/users", user="admin").get_json()["users"]) == 5


def test_non_administrator_cannot_create_users(api, people):
    expect_error(
        api.post("/users", user="ana", json={"username": "sneaky", "password": "long-enough"}),
        403,
        "forbidden",
    )
    assert "sneaky" not in [u["username"] for u in api.get("/users", user="admin").get_json()["users"]]


def test_group_members_get_and_put(api, people):
    assert api.get("/groups/reviewers/members", user="admin").get_json() == {"members": ["rita", "rob"]}
    expect_error(api.get("/groups/reviewers/members", user="rob"), 403, "forbidden")
    expect_error(api.get("/groups/no_such_group/members", user="admin"), 404, "not_found")

    response = api.put("/groups/reviewers/members", user="admin", json={"members": ["rob", "otto", "rob"]})
    assert response.status_code == 200
    assert response.get_json() == {"members": ["otto", "rob"]}
    assert api.get("/groups/reviewers/members", user="admin").get_json() == {"members": ["otto", "rob"]}
    # the lead who stays keeps his role; the one removed is no longer a member
    assert api.get("/me", user="rob").get_json()["lead_of"] == ["reviewers"]
    assert api.get("/me", user="rita").get_json()["groups"] == []
    assert api.get("/me", user="otto").get_json()["groups"] == ["others", "reviewers"]


def test_put_group_members_creates_the_group(api, people):
    response = api.put("/groups/auditors/members", user="admin", json={"members": ["ana"]})
    assert response.get_json() == {"members": ["ana"]}
    assert api.get("/groups/auditors/members", user="admin").get_json() == {"members": ["ana"]}


def test_put_group_members_refuses_bad_input(api, people):
    body = expect_error(
        api.put("/groups/reviewers/members", user="admin", json={"members": ["rob", "ghost"]}),
        422,
        "invalid_input",
    )
    assert body["details"] == [{"field": "members", "message": "no user 'ghost'"}]
    expect_error(
        api.put("/groups/reviewers/members", user="admin", json={"members": "rob"}), 422, "invalid_input"
    )
    expect_error(api.put("/groups/reviewers/members", user="admin", json={}), 422, "invalid_input")
    expect_error(
        api.put("/groups/reviewers/members", user="admin", data="x", content_type="text/plain"),
        400,
        "bad_request",
    )
    expect_error(api.put("/groups/reviewers/members", user="rob", json={"members": []}), 403, "forbidden")
    assert api.get("/groups/reviewers/members", user="admin").get_json() == {"members": ["rita", "rob"]}


# --- process models --------------------------------------------------------------------------------


def test_deploy_new_unchanged_and_changed(api, ctx, people):
    files = read_fixture(*APPROVAL)
    first = api.post("/process-models", user="ana", **_multipart(files))
    assert first.status_code == 201
    assert first.get_json() == {
        "id": "approval",
        "version": 1,
        "created": True,
        "warnings": [],
        "groups_created": [],
    }

    long_comment = expect_error(
        api.post("/process-models", user="ana", **_multipart(files, comment="x" * 2001)), 422, "invalid_input"
    )
    assert long_comment["details"] == [{"field": "comment", "message": "at most 2000 characters"}]
    before = _stored_counts(ctx)
    again = api.post("/process-models", user="ana", **_multipart(files))
    assert again.status_code == 200
    assert again.get_json() == {
        "id": "approval",
        "version": 1,
        "created": False,
        "warnings": [],
        "groups_created": [],
    }
    assert _stored_counts(ctx) == before

    files["approval.bpmn"] = files["approval.bpmn"].replace(b"Review the request", b"Review the petition")
    second = api.post("/process-models", user="ana", **_multipart(files, process_model="approval"))
    assert second.status_code == 201
    assert second.get_json()["version"] == 2 and second.get_json()["created"] is True


def test_rejected_deploy_is_422_with_located_problems_and_stores_nothing(api, ctx, people):
    files = read_fixture(*APPROVAL)
    files["approval.bpmn"] = files["approval.bpmn"].replace(b'name="reviewers"', b'name="' + b"x" * 65 + b'"')
    before = _stored_counts(ctx)
    body = expect_error(api.post("/process-models", user="ana", **_multipart(files)), 422, "invalid_input")
    assert body["details"] == [
        {
            "file": "approval.bpmn",
            "line": 22,
            "element_id": "Task_Review",
            "message": f"lane '{'x' * 40}…' is longer than 64 characters",
        }
    ]
    assert _stored_counts(ctx) == before
    assert api.get("/process-models", user="ana").get_json() == {"process_models": []}
    expect_error(api.get("/process-models/approval", user="ana"), 404, "not_found")


def test_a_lane_naming_no_group_deploys_with_a_warning_and_makes_the_group(api, ctx, people):
    files = read_fixture(*APPROVAL)
    files["approval.bpmn"] = files["approval.bpmn"].replace(b'name="reviewers"', b'name="Lane 1"')
    checked = api.post("/model-checks", user="ana", **_multipart(files)).get_json()
    warning = {
        "file": "approval.bpmn",
        "line": 22,
        "element_id": "Task_Review",
        "message": "lane 'Lane 1' names no group: the group will be created, empty, "
        "and an administrator must add its members",
    }
    assert checked == {"valid": True, "id": "approval", "problems": [], "warnings": [warning]}
    expect_error(api.get("/groups/Lane 1/members", user="admin"), 404, "not_found")  # a check makes nothing
    deployed = api.post("/process-models", user="ana", **_multipart(files))
    assert deployed.status_code == 201
    assert deployed.get_json()["warnings"] == [warning] and deployed.get_json()["groups_created"] == [
        "Lane 1"
    ]
    assert api.get("/groups/Lane 1/members", user="admin").get_json() == {"members": []}
    # Deployed again unchanged: nothing is made twice
    again = api.post("/process-models", user="ana", **_multipart(files)).get_json()
    assert again["created"] is False and again["groups_created"] == []


def test_validate_lists_problems_without_storing_a_version(api, ctx, people):
    files = read_fixture(*APPROVAL)
    files["approval.bpmn"] = files["approval.bpmn"].replace(
        b"outcome = 'approved'", b"import os\noutcome = 'approved'"
    )
    before = _stored_counts(ctx)
    checked = api.post("/model-checks", user="ana", **_multipart(files)).get_json()
    assert checked["valid"] is False and [p["element_id"] for p in checked["problems"]] == ["Script_Record"]
    assert "import statements are not allowed" in checked["problems"][0]["message"]
    assert _stored_counts(ctx) == (*before[:3], before[3] + 1)  # the audit record of the check
    expect_error(api.post("/model-checks", user="rita", **_multipart(files)), 403, "forbidden")


def test_deploy_of_malformed_xml_is_422(api, ctx, people):
    body = expect_error(
        api.post("/process-models", user="ana", **_multipart({"broken.bpmn": b"<bpmn:definitions"})),
        422,
        "invalid_input",
    )
    assert body["details"][0]["file"] in ("broken.bpmn", None)
    assert set(body["details"][0]) == {"file", "line", "element_id", "message"}


def test_deploy_naming_a_process_that_is_not_in_the_files_is_422(api, ctx, people):
    before = _stored_counts(ctx)
    response = api.post(
        "/process-models", user="ana", **_multipart(read_fixture(*APPROVAL), process_model="nope")
    )
    body = expect_error(response, 422, "invalid_input")
    assert body["details"] == [
        {
            "file": None,
            "line": None,
            "element_id": "nope",
            "message": "no executable process 'nope' in the files",
        }
    ]
    assert _stored_counts(ctx) == before


def test_deploy_needs_an_analyst_and_files(api, people):
    expect_error(
        api.post("/process-models", user="rita", **_multipart(read_fixture(*APPROVAL))), 403, "forbidden"
    )
    expect_error(
        api.post("/process-models", user="ana", data={}, content_type="multipart/form-data"),
        400,
        "bad_request",
    )
    twice = {
        "data": {"files": [(io.BytesIO(b"<a/>"), "a.bpmn"), (io.BytesIO(b"<b/>"), "a.bpmn")]},
        "content_type": "multipart/form-data",
    }
    expect_error(api.post("/process-models", user="ana", **twice), 400, "bad_request")


def test_deploy_larger_than_the_limit_is_413(api, app, people):
    limit = app.config["MAX_CONTENT_LENGTH"]
    # A body built by hand: the test client would spool a generated one to a temporary file
    # that nobody closes when the server refuses to read it.
    body = (
        b'--B\r\nContent-Disposition: form-data; name="files"; filename="big.bpmn"\r\n\r\n'
        + b" " * limit
        + b"\r\n--B--\r\n"
    )
    response = api.post(
        "/process-models", user="ana", data=body, content_type="multipart/form-data; boundary=B"
    )
    expect_error(response, 413, "request_entity_too_large")


def test_read_models_versions_and_files(api, ctx, people, approval):
    files = read_fixture(*APPROVAL)
    files["approval.bpmn"] = files["approval.bpmn"].replace(b"Review the request", b"Review the petition")
    deployments.deploy(ctx, SYSTEM, files)

    models = api.get("/process-models", user="rita").get_json()["process_models"]
    assert models == [
        {"id": "approval", "name": "Approval", "latest_version": 2, "legal_basis": "Test regulation No. 1"}
    ]

    latest = api.get("/process-models/approval", user="rita").get_json()
    assert (latest["id"], latest["version"], latest["deployed_by"]) == ("approval", 2, "system")
    assert latest["in_force_from"] == "2024-01-01" and latest["in_force_to"] is None
    assert latest["files"] == sorted(APPROVAL)
    assert latest["metadata"]["title_en"] == "Approval"
    assert api.get("/process-models/approval?version=1", user="rita").get_json()["version"] == 1
    expect_error(api.get("/process-models/approval?version=9", user="rita"), 404, "not_found")
    expect_error(api.get("/process-models/approval?version=two", user="rita"), 400, "bad_request")
    expect_error(api.get("/process-models/unknown", user="rita"), 404, "not_found")

    versions = api.get("/process-models/approval/versions", user="rita").get_json()["versions"]
    assert [v["version"] for v in versions] == [1, 2]
    assert versions[0]["content_hash"] != versions[1]["content_hash"]
    expect_error(api.get("/process-models/unknown/versions", user="rita"), 404, "not_found")

    bpmn = api.get("/process-models/approval/files/approval.bpmn", user="rita")
    assert bpmn.status_code == 200 and bpmn.mimetype == "application/xml"
    assert bpmn.get_data() == files["approval.bpmn"]
    old = api.get("/process-models/approval/files/approval.bpmn?version=1", user="rita")
    assert old.get_data() == (FIXTURES / "approval.bpmn").read_bytes()
    schema = api.get("/process-models/approval/files/approval_review.schema.json", user="rita")
    assert schema.mimetype == "application/json"
    assert schema.get_json() == json.loads((FIXTURES / "approval_review.schema.json").read_text())
    expect_error(api.get("/process-models/approval/files/missing.json", user="rita"), 404, "not_found")
    expect_error(api.get("/process-models/unknown/files/approval.bpmn", user="rita"), 404, "not_found")


# --- process instances -----------------------------------------------------------------------------


def test_start_instance(api, people, approval):
    instance = _start(api, "ana")
    assert (instance["process_model"], instance["version"], instance["status"]) == ("approval", 1, "running")
    assert instance["started_by"] == "ana"
    assert instance["data"]["subject"] == "S1"
    assert instance["error"] is None
    [task] = instance["tasks"]
    assert (task["name"], task["lane"], task["title"], task["assignee"]) == (
        "Task_Review",
        "reviewers",
        "Review the request",
        None,
    )
    assert task["titles"] == {"en": "Review the request", "kk": "Өтінішті қарау", "ru": "Рассмотреть заявку"}
    assert instance["element_states"]["Task_Review"]


def test_start_instance_refusals(api, people, approval):
    body = expect_error(api.post("/process-instances", user="ana", json={"data": {}}), 422, "invalid_input")
    assert body["details"] == [{"field": "process_model", "message": "required"}]
    body = expect_error(
        api.post("/process-instances", user="ana", json={"process_model": "approval", "data": [1]}),
        422,
        "invalid_input",
    )
    assert body["details"][0]["field"] == "data"
    expect_error(
        api.post("/process-instances", user="ana", json={"process_model": "unknown"}), 404, "not_found"
    )
    expect_error(
        api.post("/process-instances", user="ana", data="{", content_type="application/json"),
        400,
        "bad_request",
    )
    assert api.get("/process-instances", user="ana").get_json() == {"process_instances": []}


def test_start_groups_restrict_who_may_start(api, ctx, people):
    files = read_fixture(*APPROVAL)
    files["approval.bpmn"] = files["approval.bpmn"].replace(
        b'<spiffworkflow:property name="title_en" value="Approval"/>',
        b'<spiffworkflow:property name="title_en" value="Approval"/>\n'
        b'        <spiffworkflow:property name="start_groups" value="reviewers, analysts"/>',
    )
    deployments.deploy(ctx, SYSTEM, files)
    expect_error(
        api.post("/process-instances", user="otto", json={"process_model": "approval"}), 403, "forbidden"
    )
    assert _start(api, "rita")["started_by"] == "rita"
    assert _start(api, "admin")["started_by"] == "admin"


def test_list_instances_with_filters(api, ctx, people, approval):
    deployments.deploy(ctx, SYSTEM, read_fixture("payment_wait.bpmn"))
    a = _start(api)
    b = _start(api, model="payment_wait", data={"order_id": "A-1"})
    c = _start(api)
    api.post(f"/process-instances/{c['id']}/cancel", user="ana")

    def ids(query: str = "", user: str = "admin") -> list[int]:
        response = api.get(f"/process-instances{query}", user=user)
        assert response.status_code == 200
        return [i["id"] for i in response.get_json()["process_instances"]]

    assert ids() == [c["id"], b["id"], a["id"]]
    # Others see the instances of processes with a lane of their group, and those they started.
    assert ids(user="rita") == [c["id"], a["id"]]
    assert ids(user="otto") == []
    expect_error(api.get(f"/process-instances/{b['id']}", user="rita"), 403, "forbidden")
    expect_error(api.get(f"/process-instances/{a['id']}/history", user="otto"), 403, "forbidden")
    assert ids("?status=running") == [b["id"], a["id"]]
    assert ids("?status=cancelled") == [c["id"]]
    assert ids("?process_model=approval") == [c["id"], a["id"]]
    assert ids("?process_model=approval&status=running") == [a["id"]]
    assert ids("?limit=1") == [c["id"]]
    assert ids("?limit=2&offset=1") == [b["id"], a["id"]]
    assert ids("?process_model=unknown") == []
    summary = api.get("/process-instances?limit=1", user="admin").get_json()["process_instances"][0]
    assert set(summary) == {
        "id",
        "process_model",
        "version",
        "status",
        "business_key",
        "started_by",
        "created_at",
        "updated_at",
    }
    body = expect_error(api.get("/process-instances?status=paused", user="rita"), 422, "invalid_input")
    assert body["details"][0]["field"] == "status"
    expect_error(api.get("/process-instances?limit=ten", user="rita"), 400, "bad_request")


def test_get_instance_and_unknown_instance(api, people, approval):
    started = _start(api)
    response = api.get(f"/process-instances/{started['id']}", user="rita")
    assert response.status_code == 200
    assert response.get_json() == started
    body = expect_error(api.get("/process-instances/999999", user="rita"), 404, "not_found")
    assert "999999" in body["message"]
    expect_error(api.get("/process-instances/999999/history", user="rita"), 404, "not_found")
    expect_error(api.post("/process-instances/999999/cancel", user="admin"), 404, "not_found")
    expect_error(api.post("/process-instances/999999/retry", user="admin"), 404, "not_found")


def test_history_lists_every_step(api, clock, people, approval):
    started = _start(api)
    task_id = _task_id(started)
    api.post(f"/tasks/{task_id}/claim", user="rita")
    api.post(f"/tasks/{task_id}/complete", user="rita", json={"data": {"approved": True, "comment": "fine"}})
    history = api.get(f"/process-instances/{started['id']}/history", user="ana").get_json()["history"]
    assert [(h["action"], h["actor"]) for h in history] == [
        ("instance.started", "ana"),
        ("task.claimed", "rita"),
        ("task.completed", "rita"),
    ]
    assert history[0]["at"] == clock.now().isoformat()
    assert history[1]["task_id"] == task_id and history[1]["element_id"] == "Task_Review"
    assert history[2]["details"]["data"] == {"approved": True, "comment": "fine"}


def test_cancel_by_initiator_or_administrator_only(api, people, approval):
    started = _start(api, "ana")
    expect_error(api.post(f"/process-instances/{started['id']}/cancel", user="rita"), 403, "forbidden")
    response = api.post(f"/process-instances/{started['id']}/cancel", user="ana")
    assert response.status_code == 200
    cancelled = response.get_json()
    assert (cancelled["status"], cancelled["tasks"]) == ("cancelled", [])
    expect_error(api.post(f"/process-instances/{started['id']}/cancel", user="ana"), 409, "conflict")
    assert api.get("/tasks?scope=available", user="rita").get_json() == {"tasks": []}
    other = _start(api, "ana")
    assert (
        api.post(f"/process-instances/{other['id']}/cancel", user="admin").get_json()["status"] == "cancelled"
    )


def test_retry_needs_an_administrator_and_an_instance_in_error(api, ctx, people, approval):
    deployments.deploy(ctx, SYSTEM, read_fixture("fragile.bpmn"))
    response = api.post("/process-instances", user="ana", json={"process_model": "fragile"})
    assert response.status_code == 201
    failed = response.get_json()
    assert failed["status"] == "error"
    assert failed["error"]["element_id"] == "Script_PickAuditor"
    expect_error(api.post(f"/process-instances/{failed['id']}/retry", user="ana"), 403, "forbidden")
    running = _start(api)
    expect_error(api.post(f"/process-instances/{running['id']}/retry", user="admin"), 409, "conflict")

    api.put("/groups/auditors/members", user="admin", json={"members": ["otto"]})
    retried = api.post(f"/process-instances/{failed['id']}/retry", user="admin")
    assert retried.status_code == 200
    body = retried.get_json()
    assert (body["status"], body["error"], body["data"]["auditor"]) == ("running", None, "otto")


# --- tasks ---------------------------------------------------------------------------------------------


def test_task_scopes(api, people, approval):
    task_id = _task_id(_start(api))

    def tasks(user: str, query: str = "") -> list[str]:
        response = api.get(f"/tasks{query}", user=user)
        assert response.status_code == 200
        return [t["id"] for t in response.get_json()["tasks"]]

    assert tasks("rita", "?scope=available") == [task_id]
    assert tasks("rita") == []  # the default scope is "mine"
    assert tasks("otto", "?scope=available") == []
    assert tasks("admin", "?scope=all") == [task_id]
    expect_error(api.get("/tasks?scope=all", user="rita"), 403, "forbidden")
    body = expect_error(api.get("/tasks?scope=everything", user="rita"), 422, "invalid_input")
    assert body["details"][0]["field"] == "scope"

    api.post(f"/tasks/{task_id}/claim", user="rita")
    assert tasks("rita", "?scope=mine") == [task_id]
    assert tasks("rita", "?scope=available") == []
    assert tasks("rob", "?scope=available") == []
    [mine] = api.get("/tasks?scope=mine", user="rita").get_json()["tasks"]
    assert mine["assignee"] == "rita"


def test_task_list_filters(api, clock, people, approval):
    first = _task_id(_start(api))
    clock.advance(timedelta(minutes=1))  # the inbox is ordered by creation time
    second_instance = _start(api)
    second = _task_id(second_instance)
    assert [t["id"] for t in api.get("/tasks?scope=available", user="rob").get_json()["tasks"]] == [
        first,
        second,
    ]
    only = api.get(f"/tasks?scope=available&instance={second_instance['id']}", user="rob").get_json()["tasks"]
    assert [t["id"] for t in only] == [second]
    assert api.get("/tasks?scope=available&process_model=other", user="rob").get_json() == {"tasks": []}
    assert len(api.get("/tasks?scope=available&process_model=approval", user="rob").get_json()["tasks"]) == 2
    assert [
        t["id"] for t in api.get("/tasks?scope=available&limit=1&offset=1", user="rob").get_json()["tasks"]
    ] == [second]
    expect_error(api.get("/tasks?instance=first", user="rob"), 400, "bad_request")


def test_task_detail_has_form_data_and_instructions(api, people, approval):
    started = _start(api)
    task_id = _task_id(started)
    response = api.get(f"/tasks/{task_id}", user="rita")
    assert response.status_code == 200
    detail = response.get_json()
    assert detail["id"] == task_id and detail["instance_id"] == started["id"]
    assert detail["form"]["schema"] == json.loads((FIXTURES / "approval_review.schema.json").read_text())
    assert detail["form"]["ui_schema"] == json.loads((FIXTURES / "approval_review.uischema.json").read_text())
    assert detail["data"]["subject"] == "S1"
    assert "Review" in detail["instructions"]
    assert api.get(f"/tasks/{task_id}", user="admin").status_code == 200
    expect_error(api.get(f"/tasks/{task_id}", user="otto"), 403, "forbidden")
    expect_error(api.get("/tasks/00000000-0000-0000-0000-000000000000", user="rita"), 404, "not_found")


def test_claim_and_unclaim(api, people, approval):
    task_id = _task_id(_start(api))
    expect_error(api.post(f"/tasks/{task_id}/claim", user="otto"), 403, "forbidden")
    claimed = api.post(f"/tasks/{task_id}/claim", user="rita")
    assert claimed.status_code == 200
    assert claimed.get_json()["assignee"] == "rita"
    assert api.post(f"/tasks/{task_id}/claim", user="rita").get_json()["assignee"] == "rita"  # idempotent
    expect_error(api.post(f"/tasks/{task_id}/claim", user="rob"), 409, "conflict")
    expect_error(api.post(f"/tasks/{task_id}/unclaim", user="otto"), 403, "forbidden")
    released = api.post(f"/tasks/{task_id}/unclaim", user="rob")  # rob leads the group
    assert released.status_code == 200
    assert released.get_json()["assignee"] is None
    expect_error(api.post(f"/tasks/{task_id}/unclaim", user="rita"), 409, "conflict")
    api.post(f"/tasks/{task_id}/claim", user="rita")
    assert api.post(f"/tasks/{task_id}/unclaim", user="rita").get_json()["assignee"] is None
    expect_error(api.post("/tasks/00000000-0000-0000-0000-000000000000/claim", user="rita"), 409, "conflict")


def test_assign(api, people, approval):
    task_id = _task_id(_start(api))
    expect_error(
        api.post(f"/tasks/{task_id}/assign", user="rita", json={"username": "rita"}), 403, "forbidden"
    )
    body = expect_error(
        api.post(f"/tasks/{task_id}/assign", user="rob", json={"username": "otto"}), 422, "invalid_input"
    )
    assert body["details"] == [{"field": "username", "message": "'otto' is not in 'reviewers'"}]
    expect_error(
        api.post(f"/tasks/{task_id}/assign", user="rob", json={"username": "ghost"}), 422, "invalid_input"
    )
    expect_error(
        api.post(f"/tasks/{task_id}/assign", user="rob", data="rita", content_type="text/plain"),
        400,
        "bad_request",
    )
    assigned = api.post(f"/tasks/{task_id}/assign", user="rob", json={"username": "rita"})
    assert assigned.status_code == 200
    assert assigned.get_json()["assignee"] == "rita"
    assert [t["id"] for t in api.get("/tasks", user="rita").get_json()["tasks"]] == [task_id]
    cleared = api.post(f"/tasks/{task_id}/assign", user="admin", json={"username": None})
    assert cleared.get_json()["assignee"] is None
    assert api.get(f"/tasks/{task_id}", user="rita").get_json()["assignee"] is None


def test_complete_with_invalid_data_is_422_per_field_and_changes_nothing(api, people, approval):
    started = _start(api)
    task_id = _task_id(started)
    body = expect_error(
        api.post(
            f"/tasks/{task_id}/complete",
            user="rita",
            json={"data": {"approved": "yes", "amount": -1, "extra": 1}},
        ),
        422,
        "invalid_input",
    )
    assert {d["field"] for d in body["details"]} == {"$.approved", "$.amount", "$.comment", "$"}
    assert len(body["details"]) == 4
    body = expect_error(
        api.post(f"/tasks/{task_id}/complete", user="rita", json={"data": {"approved": True, "comment": ""}}),
        422,
        "invalid_input",
    )
    assert [d["field"] for d in body["details"]] == ["$.comment"]
    body = expect_error(
        api.post(f"/tasks/{task_id}/complete", user="rita", json={"data": "yes"}), 422, "invalid_input"
    )
    assert body["details"] == [{"field": "data", "message": "must be an object"}]
    expect_error(
        api.post(f"/tasks/{task_id}/complete", user="rita", data="x", content_type="text/plain"),
        400,
        "bad_request",
    )
    assert api.get(f"/process-instances/{started['id']}", user="rita").get_json() == started


def test_complete_then_complete_again_is_409(api, people, approval):
    started = _start(api)
    task_id = _task_id(started)
    response = api.post(
        f"/tasks/{task_id}/complete", user="rita", json={"data": {"approved": True, "comment": "fine"}}
    )
    assert response.status_code == 200
    assert response.get_json() == {"instance_id": started["id"], "status": "complete", "next_tasks": []}
    instance = api.get(f"/process-instances/{started['id']}", user="rita").get_json()
    assert instance["status"] == "complete"
    assert instance["data"]["outcome"] == "approved"
    assert instance["data"]["reviewers_now"] == ["rita", "rob"]
    again = api.post(
        f"/tasks/{task_id}/complete", user="rita", json={"data": {"approved": True, "comment": "x"}}
    )
    expect_error(again, 409, "conflict")
    expect_error(api.post(f"/tasks/{task_id}/claim", user="rita"), 409, "conflict")
    expect_error(api.get(f"/tasks/{task_id}", user="rita"), 404, "not_found")


def test_complete_by_an_outsider_or_a_non_assignee_is_403(api, people, approval):
    started = _start(api)
    task_id = _task_id(started)
    expect_error(
        api.post(
            f"/tasks/{task_id}/complete", user="otto", json={"data": {"approved": True, "comment": "x"}}
        ),
        403,
        "forbidden",
    )
    api.post(f"/tasks/{task_id}/claim", user="rita")
    expect_error(
        api.post(f"/tasks/{task_id}/complete", user="rob", json={"data": {"approved": True, "comment": "x"}}),
        403,
        "forbidden",
    )
    assert api.get(f"/process-instances/{started['id']}", user="rita").get_json()["status"] == "running"


def test_complete_into_a_script_error_reports_error_status(api, people, approval):
    started = _start(api, data={"divisor": 0})
    response = api.post(
        f"/tasks/{_task_id(started)}/complete",
        user="rita",
        json={"data": {"approved": False, "comment": "no"}},
    )
    assert response.status_code == 200
    assert response.get_json()["status"] == "error"
    failed = api.get(f"/process-instances/{started['id']}", user="rita").get_json()
    assert failed["status"] == "error"
    assert failed["error"]["element_id"] == "Script_Record"
    assert (
        api.get("/process-instances?status=error", user="rita").get_json()["process_instances"][0]["id"]
        == started["id"]
    )


def test_complete_returns_the_next_tasks_of_the_caller(api, ctx, people):
    make_voters = api.put("/groups/voters/members", user="admin", json={"members": ["rita", "rob"]})
    assert make_voters.status_code == 200
    deployments.deploy(ctx, SYSTEM, read_fixture("two_ballots.bpmn"))
    started = api.post("/process-instances", user="ana", json={"process_model": "two_ballots"}).get_json()
    ids = {t["name"]: t["id"] for t in started["tasks"]}
    result = api.post(
        f"/tasks/{ids['Task_BallotA']}/complete", user="rita", json={"data": {"vote_a": "a"}}
    ).get_json()
    assert result["status"] == "running"
    assert [t["id"] for t in result["next_tasks"]] == [ids["Task_BallotB"]]
    outsider = api.post(f"/tasks/{ids['Task_BallotB']}/claim", user="otto")
    expect_error(outsider, 403, "forbidden")
    final = api.post(f"/tasks/{ids['Task_BallotB']}/complete", user="rob", json={"data": {"vote_b": "b"}})
    assert final.get_json() == {"instance_id": started["id"], "status": "complete", "next_tasks": []}


# --- messages ------------------------------------------------------------------------------------------


@pytest.fixture
def waiting(ctx, people) -> list[dict]:
    deployments.deploy(ctx, SYSTEM, read_fixture("payment_wait.bpmn"))
    return [
        instances.start_instance(ctx, SYSTEM, "payment_wait", {"order_id": oid}) for oid in ("A-1", "A-2")
    ]


def test_message_is_accepted_202_and_reaches_the_matching_instance(api, waiting):
    response = api.post(
        "/messages",
        user="ana",
        json={"name": "payment_received", "correlations": {"order_id": "A-2"}, "payload": {"amount": 10}},
    )
    assert response.status_code == 202
    assert response.get_json() == {"instances": [waiting[1]["id"]]}
    delivered = api.get(f"/process-instances/{waiting[1]['id']}", user="admin").get_json()
    assert (delivered["status"], delivered["data"]["payment"]) == (
        "complete",
        {"order_id": "A-2", "amount": 10},
    )
    assert api.get(f"/process-instances/{waiting[0]['id']}", user="admin").get_json()["status"] == "running"
    history = api.get(f"/process-instances/{waiting[1]['id']}/history", user="admin").get_json()["history"]
    assert history[-1]["action"] == "message.delivered" and history[-1]["actor"] == "ana"


def test_message_nobody_waits_for_is_404(api, waiting):
    body = expect_error(
        api.post(
            "/messages", user="ana", json={"name": "payment_received", "correlations": {"order_id": "Z-9"}}
        ),
        404,
        "not_found",
    )
    assert "payment_received" in body["message"]
    expect_error(api.post("/messages", user="ana", json={"name": "unknown_message"}), 404, "not_found")
    statuses = {api.get(f"/process-instances/{w['id']}", user="admin").get_json()["status"] for w in waiting}
    assert statuses == {"running"}


def test_message_without_name_or_with_bad_shapes_is_422(api, waiting):
    expect_error(api.post("/messages", user="ana", json={"correlations": {}}), 422, "invalid_input")
    expect_error(
        api.post("/messages", user="ana", json={"name": "payment_received", "correlations": [1]}),
        422,
        "invalid_input",
    )
    expect_error(
        api.post("/messages", user="ana", json={"name": "payment_received", "payload": "x"}),
        422,
        "invalid_input",
    )
    expect_error(api.post("/messages", user="ana", data="x", content_type="text/plain"), 400, "bad_request")


# --- errors outside the views --------------------------------------------------------------------------


def test_wrong_method_is_405_json(api, people):
    response = api.request("DELETE", "/me", user="rita", check=False)
    expect_error(response, 405, "method_not_allowed")


def test_unknown_path_under_the_api_is_404_json(client):
    response = client.get("/api/v1/no-such-endpoint")
    assert response.status_code == 404
    assert response.is_json


def test_non_numeric_instance_id_is_404_json(api, people):
    response = api.get("/process-instances/abc", user="rita", check=False)
    assert response.status_code == 404
    assert response.is_json


# --- details of the contract -------------------------------------------------------------------


def test_instance_view_names_the_assignee_of_its_tasks(api, people, approval):
    started = _start(api)
    api.post(f"/tasks/{_task_id(started)}/claim", user="rita")
    [task] = api.get(f"/process-instances/{started['id']}", user="rita").get_json()["tasks"]
    assert task["assignee"] == "rita"


def test_next_tasks_name_their_assignee(api, ctx, people):
    api.put("/groups/voters/members", user="admin", json={"members": ["rita"]})
    deployments.deploy(ctx, SYSTEM, read_fixture("two_ballots.bpmn"))
    started = api.post("/process-instances", user="ana", json={"process_model": "two_ballots"}).get_json()
    ids = {t["name"]: t["id"] for t in started["tasks"]}
    api.post(f"/tasks/{ids['Task_BallotB']}/claim", user="rita")
    result = api.post(f"/tasks/{ids['Task_BallotA']}/complete", user="rita", json={"data": {}}).get_json()
    assert [(t["id"], t["assignee"]) for t in result["next_tasks"]] == [(ids["Task_BallotB"], "rita")]


def test_create_user_with_null_fields_is_422(api, people):
    body = expect_error(
        api.post("/users", user="admin", json={"username": None, "password": "long-enough"}),
        422,
        "invalid_input",
    )
    assert [d["field"] for d in body["details"]] == ["username"]


def test_assign_with_a_non_string_username_is_422(api, people, approval):
    task_id = _task_id(_start(api))
    api.post(f"/tasks/{task_id}/assign", user="rob", json={"username": "rita"})
    expect_error(api.post(f"/tasks/{task_id}/assign", user="rob", json={"username": 5}), 422, "invalid_input")
    assert api.get(f"/tasks/{task_id}", user="rita").get_json()["assignee"] == "rita"


def test_message_with_null_name_is_422(api, people):
    expect_error(api.post("/messages", user="ana", json={"name": None}), 422, "invalid_input")


@pytest.mark.parametrize(
    "query",
    ["/process-instances?limit=-1", "/process-instances?offset=-1", "/tasks?scope=available&offset=-1"],
)
def test_negative_paging_is_400(api, people, approval, query):
    _start(api)
    expect_error(api.get(query, user="rita"), 400, "bad_request")


def test_a_body_nested_too_deep_is_a_bad_request(api, people):
    sent = api.post("/process-instances", user="ana", data="[" * 100_000, content_type="application/json")
    assert expect_error(sent, 400, "bad_request")["message"] == "the request body must be a JSON object"
