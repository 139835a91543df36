"""The database goes away and comes back while the server runs: requests meanwhile get 503 with
Retry-After (JSON from the API, a page from the web pages), never a 500; afterwards the same
server answers again, without a restart, and nothing answered with 2xx is lost."""

from __future__ import annotations

import os

import pytest
from sqlalchemy.engine import make_url

from app import create_app
from app.services.people.users import SYSTEM
from app.services.running import instance_search
from tests.conftest import APPROVAL, make_user, read_fixture
from tests.tcp_proxy import TcpProxy

pytestmark = pytest.mark.skipif(
    not os.environ.get("TEST_DATABASE_URL"), reason="PostgreSQL is not configured"
)


@pytest.fixture
def through_proxy(ctx, settings, clock, database_url):
    """The app on PostgreSQL through a TCP forwarder the test can cut."""
    import dataclasses

    if database_url.startswith("sqlite"):
        pytest.skip("an SQLite file has no connection to cut")
    target = make_url(database_url)
    proxy = TcpProxy((target.host or "127.0.0.1", target.port or 5432)).start()
    url = target.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    app = create_app(dataclasses.replace(settings, database_url=url), clock=clock)
    yield app, proxy
    proxy.cut()
    app.extensions["db_engine"].dispose()


def test_an_outage_answers_503_and_the_server_recovers(ctx, through_proxy):
    app, proxy = through_proxy
    make_user(ctx, "ops", ["admins", "reviewers"])
    from app.services.modelling import deployments

    deployments.deploy(ctx, SYSTEM, read_fixture(*APPROVAL))
    client = app.test_client()
    token = client.post("/api/v1/auth/token", json={"username": "ops", "password": "password123"}).get_json()
    auth = {"Authorization": f"Bearer {token['token']}"}
    started = []
    answer = client.post(
        "/api/v1/process-instances",
        json={"process_model": "approval", "data": {"subject": "a", "divisor": 2}},
        headers=auth,
    )
    assert answer.status_code == 201
    started.append(answer.get_json()["id"])

    proxy.cut()
    for _ in range(3):  # the pool's connections, then new ones, all fail
        down = client.post(
            "/api/v1/process-instances",
            json={"process_model": "approval", "data": {"subject": "b", "divisor": 2}},
            headers=auth,
        )
        assert down.status_code == 503, down.get_data(as_text=True)
        assert down.headers["Retry-After"] and down.get_json()["error"] == "unavailable"
    page = client.get("/login")
    assert page.status_code in (200, 503)  # the sign-in page needs no database; others do
    assert client.get("/readyz").status_code == 503

    proxy.mend()
    answer = client.post(
        "/api/v1/process-instances",
        json={"process_model": "approval", "data": {"subject": "c", "divisor": 2}},
        headers=auth,
    )
    assert answer.status_code == 201, answer.get_data(as_text=True)
    started.append(answer.get_json()["id"])
    assert client.get("/readyz").status_code == 200
    found = {row["id"] for row in instance_search.list_instances(ctx, SYSTEM, model_id="approval")}
    assert set(started) <= found and len(found) == len(started)  # nothing 2xx lost, nothing 503 kept
