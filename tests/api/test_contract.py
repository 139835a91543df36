"""Requests are checked against the OpenAPI document before their handlers run: what schemathesis
found accepted or crashing, refused with the field named, and nothing changed."""

from __future__ import annotations

from app.api import contract
from app.services.modelling import deployments
from app.services.people.users import SYSTEM
from tests.api.conftest import expect_error


def test_every_routed_api_operation_has_compiled_checks(app):
    routed = {
        (method, contract._template(rule.rule))
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("api.") and rule.endpoint not in contract.UNCHECKED_ENDPOINTS
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    assert routed and routed <= set(contract.operations())


def test_a_huge_negative_instance_filter_is_a_400_not_a_server_error(api, people):
    refused = api.get("/tasks?instance=-177983907283499032248320", user="admin")
    body = expect_error(refused, 400, "bad_request")
    assert body["details"] == [{"field": "instance", "message": "must be at least 1"}]


def test_an_empty_query_value_is_refused(api, people):
    for path, field in (("/process-instances?status=", "status"), ("/tasks?offset=", "offset")):
        body = expect_error(api.get(path, user="admin"), 400, "bad_request")
        assert body["details"] == [{"field": field, "message": "must not be empty"}]
    body = expect_error(api.get("/tasks?limit=1.5", user="admin"), 400, "bad_request")
    assert body["details"] == [{"field": "limit", "message": "must be an integer"}]


def test_a_body_field_off_its_schema_is_named_and_nothing_changes(api, people):
    before = api.get("/groups/reviewers/members", user="admin").get_json()
    refused = api.put("/groups/reviewers/members", user="admin", json={"members": [], "note": 42})
    body = expect_error(refused, 422, "invalid_input")
    assert body["details"] == [{"field": "note", "message": "not a field of this request"}]
    refused = api.put("/rotation", user="admin", json={"term_end": "2026-06-30", "deputies": None})
    assert expect_error(refused, 422, "invalid_input")["details"] == [
        {"field": "deputies", "message": "list of strings"}
    ]
    assert api.get("/groups/reviewers/members", user="admin").get_json() == before


def test_a_body_of_the_wrong_media_type_is_a_400(api, people):
    response = api.post("/users", user="admin", data="username=x", content_type="multipart/form-data")
    expect_error(response, 400, "bad_request")
    deploy = api.post("/process-models", user="admin", json={"files": []})  # JSON where parts belong
    expect_error(deploy, 400, "bad_request")


def test_head_is_checked_as_the_get_it_answers_for(api, people):
    assert api.request("HEAD", "/tasks?limit=5000", user="admin", check=False).status_code == 400
    assert api.request("HEAD", "/tasks?limit=5", user="admin", check=False).status_code == 200


def test_no_token_is_a_401_before_any_parameter_is_read(api):
    expect_error(api.get("/tasks?limit=5000"), 401, "unauthorized")


def test_suspend_and_resume_through_the_api(api, people, approval):
    start = {"process_model": "approval", "data": {"subject": "S1", "divisor": 4}}
    started = api.post("/process-instances", user="admin", json=start).get_json()
    instance_id, task_id = started["id"], started["tasks"][0]["id"]
    path = f"/process-instances/{instance_id}"
    expect_error(api.post(f"{path}/suspend", user="rita"), 403, "forbidden")
    assert api.post(f"{path}/suspend", user="admin").get_json()["status"] == "suspended"
    listed = api.get("/process-instances?status=suspended", user="admin").get_json()["process_instances"]
    assert [i["id"] for i in listed] == [instance_id]
    body = expect_error(api.post(f"/tasks/{task_id}/claim", user="rita"), 409, "conflict")
    assert "suspended" in body["message"]
    expect_error(api.post(f"{path}/suspend", user="admin"), 409, "conflict")
    assert api.post(f"{path}/resume", user="admin").get_json()["status"] == "running"
    assert api.post(f"/tasks/{task_id}/claim", user="rita").status_code == 200


def test_incidents_through_the_api(api, people, approval):
    start = {"process_model": "approval", "data": {"subject": "S1", "divisor": 0}}
    started = api.post("/process-instances", user="rita", json=start).get_json()
    task_id = started["tasks"][0]["id"]
    api.post(f"/tasks/{task_id}/claim", user="rita")
    api.post(f"/tasks/{task_id}/complete", user="rita", json={"data": {"approved": True, "comment": "ok"}})
    [incident] = api.get("/incidents", user="admin").get_json()["incidents"]
    assert (incident["instance_id"], incident["element_id"]) == (started["id"], "Script_Record")
    expect_error(api.get("/incidents", user="rita"), 403, "forbidden")
    refused = api.put(f"/process-instances/{started['id']}/data", user="admin", json={"data": {"1x": 2}})
    expect_error(refused, 422, "invalid_input")
    api.put(f"/process-instances/{started['id']}/data", user="admin", json={"data": {"divisor": 5}})
    results = api.post("/incidents/retry", user="admin", json={"instances": [started["id"]]}).get_json()
    assert results == {
        "results": [{"instance_id": started["id"], "outcome": "done", "status": "complete", "message": None}]
    }
    expect_error(api.post("/incidents/retry", user="admin", json={"instances": []}), 422, "invalid_input")


def test_migration_through_the_api(api, ctx, people):
    from tests.services.test_migration import approval_files

    deployments.deploy(ctx, SYSTEM, approval_files("v1"))
    start = {"process_model": "approval", "data": {"subject": "S1", "divisor": 4}}
    instance_id = api.post("/process-instances", user="admin", json=start).get_json()["id"]
    deployments.deploy(ctx, SYSTEM, approval_files("added_after"))
    deployments.deploy(ctx, SYSTEM, approval_files("review_removed"))
    preview = api.get(f"/process-instances/{instance_id}/migration?to=3", user="admin").get_json()
    assert (preview["movable"], preview["removed"]) == (False, ["Task_Review"])
    refused = api.post(f"/process-instances/{instance_id}/migrate", user="admin", json={"to": 3})
    assert expect_error(refused, 409, "conflict")["details"][0]["field"] == "to"
    moved = api.post(f"/process-instances/{instance_id}/migrate", user="admin", json={"to": 2}).get_json()
    assert moved["version"] == 2
    expect_error(api.get(f"/process-instances/{instance_id}/migration", user="admin"), 400, "bad_request")
    expect_error(api.get(f"/process-instances/{instance_id}/migration?to=2", user="rita"), 403, "forbidden")


def test_a_bulk_migration_job_through_the_api(api, ctx, people):
    import time

    from tests.services.test_migration import approval_files

    deployments.deploy(ctx, SYSTEM, approval_files("v1"))
    start = {"process_model": "approval", "data": {"subject": "S1", "divisor": 4}}
    ids = [api.post("/process-instances", user="admin", json=start).get_json()["id"] for _ in range(3)]
    deployments.deploy(ctx, SYSTEM, approval_files("added_after"))
    job = api.post("/process-models/approval/versions/1/migrate", user="admin", json={"to": 2})
    assert job.status_code == 202 and job.get_json()["total"] == 3
    deadline, path = time.monotonic() + 30, f"/migration-jobs/{job.get_json()['id']}"
    while (view := api.get(path, user="admin").get_json())["status"] != "done":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert (view["moved"], view["refused"], view["failed"]) == (3, 0, 0)
    assert {api.get(f"/process-instances/{i}", user="admin").get_json()["version"] for i in ids} == {2}
    expect_error(api.get(f"/migration-jobs/{view['id']}", user="rita"), 403, "forbidden")
