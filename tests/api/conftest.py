"""Fixtures for the REST API tests: people with tokens, and a client that checks every response
against the OpenAPI document (app/api/openapi.json)."""

from __future__ import annotations

from typing import Any

import pytest

from app.services.modelling import deployments
from app.services.people import users
from app.services.people.users import SYSTEM
from tests.api import contract
from tests.conftest import APPROVAL, make_user, read_fixture

PASSWORD = "password123"  # what tests.conftest.make_user gives everyone


class Api:
    """The Flask test client under /api/v1, signed in as a named user, checking the contract."""

    def __init__(self, client: Any, ctx: Any) -> None:
        self.client = client
        self.ctx = ctx
        self._tokens: dict[str, str] = {}

    def token(self, username: str) -> str:
        if username not in self._tokens:
            self._tokens[username] = users.issue_token(self.ctx, users.actor_for(self.ctx, username))
        return self._tokens[username]

    def request(
        self,
        method: str,
        path: str,
        *,
        user: str | None = None,
        headers: dict | None = None,
        check: bool = True,
        **kwargs: Any,
    ):
        headers = dict(headers or {})
        if user is not None:
            headers["Authorization"] = f"Bearer {self.token(user)}"
        response = self.client.open(contract.prefix() + path, method=method, headers=headers, **kwargs)
        if check:
            contract.check_response(
                method,
                response.request.path,
                response.status_code,
                response.content_type or "",
                response.get_data(),
            )
        return response

    def get(self, path: str, **kwargs: Any):
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any):
        return self.request("POST", path, **kwargs)

    def put(self, path: str, **kwargs: Any):
        return self.request("PUT", path, **kwargs)


@pytest.fixture
def api(client, ctx) -> Api:
    return Api(client, ctx)


@pytest.fixture
def people(ctx) -> dict[str, users.Actor]:
    return {
        "admin": make_user(ctx, "admin", ["admins", "analysts"]),
        "ana": make_user(ctx, "ana", ["analysts"]),
        "rita": make_user(ctx, "rita", ["reviewers"]),
        "rob": make_user(ctx, "rob", ["reviewers"], leads=["reviewers"]),
        "otto": make_user(ctx, "otto", ["others"]),
    }


@pytest.fixture
def approval(ctx, people) -> str:
    """The approval process deployed (its lane group 'reviewers' exists through `people`)."""
    return deployments.deploy(ctx, SYSTEM, read_fixture(*APPROVAL)).model_id


def expect_error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.get_json()
    assert body["error"] == code
    assert isinstance(body["message"], str) and body["message"]
    assert isinstance(body["details"], list)
    return body
