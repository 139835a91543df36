"""The OpenAPI document (app/api/openapi.json) against the application: same operations as the
routes, a valid OpenAPI 3.1 document, and real responses that match its schemas."""

from __future__ import annotations

import io
import json
import re

import pytest
from jsonschema import Draft202012Validator

from app.services.modelling import deployments
from app.services.people.users import SYSTEM
from tests.api import contract
from tests.conftest import APPROVAL, read_fixture

PATH_PARAMETER = re.compile(r"<(?:[a-z_]+:)?([A-Za-z_][A-Za-z0-9_]*)>")


def _registered_operations(app) -> set[tuple[str, str]]:
    operations = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith(contract.prefix() + "/"):
            path = PATH_PARAMETER.sub(r"{\1}", rule.rule)
            operations.update((method, path) for method in rule.methods - {"HEAD", "OPTIONS"})
    return operations


def _operations():
    for path, item in contract.document()["paths"].items():
        for method, operation in item.items():
            if method in contract.HTTP_METHODS:
                yield path, item, method, operation


def test_document_operations_are_exactly_the_registered_routes(app):
    registered = _registered_operations(app)
    documented = contract.documented_operations()
    assert registered, "no routes under the API prefix"
    assert documented - registered == set(), "documented but not registered"
    assert registered - documented == set(), "registered but not documented"


def test_document_is_valid_openapi_3_1():
    validate = pytest.importorskip("openapi_spec_validator").validate
    validate(contract.document())


def test_document_structure():
    """Checks that hold without openapi-spec-validator installed."""
    doc = contract.document()
    assert doc["openapi"].startswith("3.1.")
    assert {"title", "version"} <= set(doc["info"])
    assert doc["servers"] == [{"url": "/api/v1"}]
    assert doc["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "A token from POST /auth/token.",
    }
    assert doc["security"] == [{"bearerAuth": []}]
    for schema in doc["components"]["schemas"].values():
        Draft202012Validator.check_schema(schema)
    operation_ids = [operation["operationId"] for *_, operation in _operations()]
    assert len(operation_ids) == len(set(operation_ids))


def test_every_reference_resolves():
    def refs(node):
        if isinstance(node, dict):
            if isinstance(node.get("$ref"), str):
                yield node["$ref"]
            for value in node.values():
                yield from refs(value)
        elif isinstance(node, list):
            for value in node:
                yield from refs(value)

    found = set(refs(contract.document()))
    assert found
    for reference in found:
        assert reference.startswith("#/"), reference
        contract.resolve(reference[1:])
    schemas = set(contract.document()["components"]["schemas"])
    used = {r.rsplit("/", 1)[1] for r in found if r.startswith("#/components/schemas/")}
    assert schemas == used, f"unused schemas: {schemas - used}"


def test_path_parameters_match_the_templates():
    for path, item, _method, operation in _operations():
        declared = set()
        for parameter in item.get("parameters", []) + operation.get("parameters", []):
            if "$ref" in parameter:
                parameter = contract.resolve(parameter["$ref"][1:])
            if parameter["in"] == "path":
                assert parameter["required"] is True
                declared.add(parameter["name"])
        assert declared == set(re.findall(r"\{([^}]+)\}", path)), path


def test_statuses_follow_the_security_of_each_operation():
    for path, _item, method, operation in _operations():
        statuses = set(operation["responses"])
        assert statuses & {"200", "201", "202"}, (method, path)
        if operation.get("security") == []:
            assert "401" not in statuses or path == "/auth/token", (method, path)
        else:
            assert "401" in statuses, (method, path)
        if "requestBody" in operation and "application/json" in operation["requestBody"]["content"]:
            assert {"400", "422"} & statuses, (method, path)
        for status, response in operation["responses"].items():
            if status.startswith(("4", "5")):
                error = contract.resolve(response["$ref"][1:])
                assert error["content"]["application/json"]["schema"] == {
                    "$ref": "#/components/schemas/Error"
                }


def test_document_file_is_pretty_printed_in_a_stable_form():
    text = contract.DOCUMENT_PATH.read_text(encoding="utf-8")
    assert text == json.dumps(json.loads(text), indent=2, ensure_ascii=False) + "\n"


def test_document_is_served_without_a_token(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.get_json() == contract.document()


def test_error_schema_requires_the_three_fields():
    assert contract.component_errors("Error", {"error": "not_found", "message": "x", "details": []}) == []
    assert contract.component_errors("Error", {"error": "not_found", "message": "x"})
    deploy_problem = {"file": "a.bpmn", "line": 3, "element_id": "Task_A", "message": "bad"}
    field_problem = {"field": "$.comment", "message": "required"}
    body = {"error": "invalid_input", "message": "x", "details": [deploy_problem, field_problem]}
    assert contract.component_errors("Error", body) == []
    assert contract.component_errors("Error", {**body, "details": [{"line": "three"}]})


def test_a_whole_scenario_matches_the_documented_schemas(client, ctx, people):
    """Drive the API from sign-in to a finished instance and validate each response body
    against the schema documented for its status (independently of the `api` fixture)."""
    seen: set[tuple[str, str, int]] = set()

    def call(method: str, path: str, token: str | None = None, **kwargs):
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = client.open(f"/api/v1{path}", method=method, headers=headers, **kwargs)
        template = contract.match_path(f"/api/v1{path.split('?')[0]}")
        assert template is not None, path
        pointer = contract.response_pointer(method, template, response.status_code)
        if response.is_json:
            schema_pointer = f"{pointer}/content/application~1json/schema"
            assert contract.schema_errors(schema_pointer, response.get_json()) == [], (method, path)
        seen.add((method, template, response.status_code))
        return response

    deployments.deploy(ctx, SYSTEM, read_fixture("payment_wait.bpmn"))
    admin = call("POST", "/auth/token", json={"username": "admin", "password": "password123"}).get_json()[
        "token"
    ]
    rita = call("POST", "/auth/token", json={"username": "rita", "password": "password123"}).get_json()[
        "token"
    ]
    otto = call("POST", "/auth/token", json={"username": "otto", "password": "password123"}).get_json()[
        "token"
    ]
    call("POST", "/auth/token", json={"username": "rita", "password": "nope"})
    call("GET", "/me", rita)
    call("GET", "/me")
    call("GET", "/users", admin)
    call("GET", "/users", rita)
    call(
        "POST", "/users", admin, json={"username": "nina", "password": "password123", "groups": ["reviewers"]}
    )
    call("POST", "/users", admin, json={"username": "nina", "password": "password123"})
    call("POST", "/users", admin, json={"username": "", "password": ""})
    call("GET", "/groups/reviewers/members", admin)
    call("PUT", "/groups/reviewers/members", admin, json={"members": ["rita", "rob", "nina"]})
    call("PUT", "/groups/reviewers/members", admin, json={"members": ["ghost"]})
    multipart = {"files": [(io.BytesIO(c), n) for n, c in read_fixture(*APPROVAL).items()]}
    call("POST", "/process-models", admin, data=multipart, content_type="multipart/form-data")
    broken = {"files": [(io.BytesIO(b"<bpmn:definitions"), "broken.bpmn")]}
    call("POST", "/model-checks", admin, data=broken, content_type="multipart/form-data")
    multipart = {"files": [(io.BytesIO(c), n) for n, c in read_fixture(*APPROVAL).items()]}
    call("POST", "/model-checks", rita, data=multipart, content_type="multipart/form-data")
    call("GET", "/process-models", rita)
    call("GET", "/process-models/approval", rita)
    call("GET", "/process-models/nothing", rita)
    call("GET", "/process-models/approval/versions", rita)
    call("GET", "/process-models/approval/diff?from=1&to=1", admin)
    call("GET", "/process-models/approval/diff?from=1&to=9", admin)
    call("GET", "/process-models/approval/diff?from=1&to=2", rita)
    call("GET", "/process-models/approval/files/approval.bpmn", rita)
    call("GET", "/process-models/approval/files/approval_review.schema.json", rita)
    instance = call(
        "POST",
        "/process-instances",
        rita,
        json={"process_model": "approval", "data": {"subject": "S", "divisor": 2}},
    ).get_json()
    call("GET", "/process-instances?status=running", rita)
    call("GET", f"/process-instances/{instance['id']}", rita)
    call("GET", "/process-instances/424242", rita)
    task_id = instance["tasks"][0]["id"]
    call("GET", "/tasks?scope=available", rita)
    call("GET", f"/tasks/{task_id}", rita)
    call("GET", f"/tasks/{task_id}", otto)
    call("POST", f"/tasks/{task_id}/claim", rita)
    call("POST", f"/tasks/{task_id}/unclaim", rita)
    call("POST", f"/tasks/{task_id}/assign", admin, json={"username": "nina"})
    call("POST", f"/tasks/{task_id}/assign", admin, json={"username": "otto"})
    call("GET", "/tasks?scope=all", admin)
    call("POST", f"/tasks/{task_id}/complete", admin, json={"data": {"approved": 1}})
    call("POST", f"/tasks/{task_id}/assign", admin, json={"username": None})
    call("POST", f"/tasks/{task_id}/complete", rita, json={"data": {"approved": True, "comment": "ok"}})
    call("POST", f"/tasks/{task_id}/complete", rita, json={"data": {"approved": True, "comment": "ok"}})
    call("GET", f"/process-instances/{instance['id']}/history", rita)
    call("GET", f"/process-instances/{instance['id']}/log", rita)
    call("POST", f"/process-instances/{instance['id']}/cancel", rita)
    call("POST", f"/process-instances/{instance['id']}/retry", admin)
    failing = call(
        "POST",
        "/process-instances",
        rita,
        json={"process_model": "approval", "data": {"subject": "Z", "divisor": 0}},
    ).get_json()
    failing_task = failing["tasks"][0]["id"]
    call("POST", f"/tasks/{failing_task}/claim", rita)
    call("POST", f"/tasks/{failing_task}/complete", rita, json={"data": {"approved": True, "comment": "ok"}})
    call("GET", "/incidents", admin)
    call("GET", "/incidents", rita)
    call("PUT", f"/process-instances/{failing['id']}/data", admin, json={"data": {"divisor": 2}})
    call("PUT", f"/process-instances/{instance['id']}/data", admin, json={"data": {"divisor": 2}})
    call("POST", "/incidents/retry", admin, json={"instances": [failing["id"], 424242]})
    call("POST", "/incidents/cancel", admin, json={"instances": [failing["id"]]})
    waiting = call(
        "POST",
        "/process-instances",
        rita,
        json={"process_model": "payment_wait", "data": {"order_id": "P-1"}},
    ).get_json()
    call("POST", "/messages", rita, json={"name": "payment_received", "correlations": {"order_id": "P-0"}})
    call("POST", f"/process-instances/{waiting['id']}/suspend", rita)
    call("POST", f"/process-instances/{waiting['id']}/suspend", admin)
    call("POST", f"/process-instances/{waiting['id']}/resume", admin)
    call("POST", f"/process-instances/{waiting['id']}/resume", admin)
    call("GET", f"/process-instances/{waiting['id']}/migration?to=1", admin)
    call("GET", f"/process-instances/{waiting['id']}/migration?to=9", admin)
    call("GET", f"/process-instances/{waiting['id']}/migration?to=1", rita)
    call("POST", f"/process-instances/{waiting['id']}/migrate", admin, json={"to": 1})
    call("POST", "/process-models/payment_wait/versions/1/migrate", admin, json={"to": 1})
    call("POST", "/process-models/payment_wait/versions/9/migrate", admin, json={"to": 1})
    call("POST", "/process-models/payment_wait/versions/1/migrate", rita, json={"to": 1})
    call("GET", "/migration-jobs/424242", admin)
    delivered = call(
        "POST",
        "/messages",
        rita,
        json={"name": "payment_received", "correlations": {"order_id": "P-1"}, "payload": {"x": 1}},
    )
    assert delivered.get_json() == {"instances": [waiting["id"]]}
    deployments.deploy(ctx, SYSTEM, read_fixture("timer_intermediate.bpmn"))
    call("POST", "/process-instances", rita, json={"process_model": "timer_intermediate"})
    call("GET", "/timers", rita)
    [timer] = call("GET", "/timers?process_model=timer_intermediate", admin).get_json()["timers"]
    call("POST", f"/timers/{timer['id']}/move", admin, json={"due_at": "2030-01-01T09:00:00+05:00"})
    call("POST", f"/timers/{timer['id']}/move", admin, json={"due_at": "2030-01-01T09:00:00"})
    call("POST", f"/timers/{timer['id']}/fire", admin)
    call("POST", "/timers/424242/fire", admin)
    call("GET", "/rotation", admin)
    call("GET", "/rotation", rita)
    term = {"term_end": "2027-06-30", "term_months": 12, "deputies": ["A. Kim"]}
    call("PUT", "/rotation", admin, json=term)
    call("PUT", "/rotation", admin, json={"lead_days": -1})
    call("GET", "/calendar/transfers", admin)
    call("POST", "/calendar/transfers", admin, json={"day": "2027-01-09", "kind": "working_day"})
    call("POST", "/calendar/transfers", admin, json={"day": "09.01.2027", "kind": "working_day"})
    call("DELETE", "/calendar/transfers/2027-01-09", admin)
    call("DELETE", "/calendar/transfers/2027-01-09", admin)
    call("DELETE", "/calendar/transfers/2027-01-09", rita)
    call("GET", "/openapi.json")

    statuses = {status for *_, status in seen}
    assert statuses == {200, 201, 202, 401, 403, 404, 409, 422}
    assert {template for _, template, _ in seen} == set(contract.document()["paths"])


def test_every_operation_that_creates_something_links_to_the_operations_that_take_its_id() -> None:
    import json

    from app.api.openapi import DOCUMENT_PATH

    document = json.loads(DOCUMENT_PATH.read_text())
    operations = {
        op["operationId"]: (path, op)
        for path, item in document["paths"].items()
        for op in item.values()
        if isinstance(op, dict) and "operationId" in op
    }
    linked = {}
    for operation_id, (_path, op) in operations.items():
        for response in op["responses"].values():
            for link in (response.get("links") or {}).values():
                target_path, _target = operations[link["operationId"]]  # an operation that exists
                for parameter in link["parameters"]:
                    assert "{" + parameter + "}" in target_path, (operation_id, link)
                linked.setdefault(operation_id, set()).add(link["operationId"])
    assert {"getProcessInstance", "cancelProcessInstance", "completeTask"} <= linked["startProcessInstance"]
    assert "getProcessModel" in linked["deployProcessModel"]
    assert "removeCalendarTransfer" in linked["setCalendarTransfer"]
