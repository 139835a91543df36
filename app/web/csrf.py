"""CSRF protection for every form of the web pages: a per-session token checked on each POST."""

from __future__ import annotations

import hmac
import secrets

from flask import Flask, abort, request, session

FIELD = "csrf_token"


def csrf_token() -> str:
    token = session.get(FIELD)
    if not token:
        token = session[FIELD] = secrets.token_urlsafe(32)
    return str(token)


def check_csrf() -> None:
    """Abort with 400 when a state-changing request of the web pages lacks the session's token."""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    expected = session.get(FIELD)
    given = request.form.get(FIELD) or request.headers.get("X-CSRF-Token", "")
    if not expected or not hmac.compare_digest(str(expected), str(given)):
        abort(400, description="csrf")


def init_csrf(app: Flask) -> None:
    app.jinja_env.globals["csrf_token"] = csrf_token
