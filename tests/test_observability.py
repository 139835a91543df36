"""Request ids (kept from a proxy when plain, else made), written in the audit records of the
request and in its log line; trusted proxy headers and HSTS behind TLS."""

from __future__ import annotations

import dataclasses
import logging

from sqlalchemy import select

from app import create_app
from app.db.models import AuditRecord
from app.observability import REQUEST_ID_HEADER
from tests.conftest import make_user


def test_a_request_id_is_answered_logged_and_audited(settings, clock, ctx, caplog):
    behind_proxy = create_app(dataclasses.replace(settings, trusted_proxy_hops=1), clock=clock)
    client = behind_proxy.test_client()
    make_user(ctx, "ops", ["admins"])
    token = client.post("/api/v1/auth/token", json={"username": "ops", "password": "password123"}).get_json()
    with caplog.at_level(logging.INFO, logger="app.requests"):
        answer = client.post(
            "/api/v1/calendar/transfers",
            json={"day": "2026-12-18", "kind": "holiday", "note": "decree"},
            headers={"Authorization": f"Bearer {token['token']}", REQUEST_ID_HEADER: "trace-7f3a"},
        )
    assert answer.status_code in (200, 201) and answer.headers[REQUEST_ID_HEADER] == "trace-7f3a"
    [line] = [r for r in caplog.records if getattr(r, "request_id", None) == "trace-7f3a"]
    assert (line.status, line.user, line.method) == (201, "ops", "POST")
    with ctx.uow() as uow:
        [record] = uow.session.scalars(
            select(AuditRecord).where(AuditRecord.action == "calendar.transfer_set")
        )
        assert record.request_id == "trace-7f3a"

    made = client.get("/healthz", headers={REQUEST_ID_HEADER: "not plain; <script>"})
    assert made.headers[REQUEST_ID_HEADER] != "not plain; <script>"
    assert len(made.headers[REQUEST_ID_HEADER]) == 32  # one of ours
    behind_proxy.extensions["db_engine"].dispose()


def test_without_a_trusted_proxy_a_client_cannot_choose_its_request_id(client):
    answer = client.get("/healthz", headers={REQUEST_ID_HEADER: "forged-id"})
    assert answer.headers[REQUEST_ID_HEADER] != "forged-id" and len(answer.headers[REQUEST_ID_HEADER]) == 32


def test_hsts_and_forwarded_headers_only_from_a_trusted_proxy(settings, clock):
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"}
    direct = create_app(settings, clock=clock)
    answer = direct.test_client().get("/healthz", headers=forwarded)
    assert "Strict-Transport-Security" not in answer.headers  # nobody vouches for that header
    proxied = create_app(dataclasses.replace(settings, trusted_proxy_hops=1), clock=clock)
    answer = proxied.test_client().get("/healthz", headers=forwarded)
    assert answer.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    for app in (direct, proxied):
        app.extensions["db_engine"].dispose()


def test_readiness_names_what_is_missing(tmp_path, clock):
    from app.settings import Settings

    empty = create_app(
        Settings(database_url=f"sqlite:///{tmp_path / 'empty.sqlite3'}", secret_key="k"), clock=clock
    )
    answer = empty.test_client().get("/readyz")
    assert answer.status_code == 503 and answer.headers["Retry-After"] == "5"
    assert "revision none" in answer.get_json()["reason"]
    assert empty.test_client().get("/healthz").status_code == 200
    empty.extensions["db_engine"].dispose()
