"""Shared by the views: the services, the signed-in actor, safe redirects, the navigation count."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any
from urllib.parse import urlsplit

from flask import current_app, g, redirect, request, session, url_for
from flask_babel import gettext
from werkzeug.wrappers import Response

from ..errors import Unauthorized
from ..services.context import ServiceContext
from ..services.operations import reports
from ..services.people import users
from ..services.people.users import Actor
from ..services.time import rotation
from ..services.work import inbox
from . import bp
from .csrf import check_csrf

PUBLIC_ENDPOINTS = {"web.login", "web.set_language", "web.static"}


def services() -> ServiceContext:
    return current_app.extensions["services"]


def actor() -> Actor:
    current = g.get("actor")
    if current is None:
        raise Unauthorized("sign in first")
    return current


def safe_next(target: str | None, default: str = "web.inbox") -> str:
    """A local path to go back to, never another site."""
    if target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and target.startswith("/") and not target.startswith("//"):
            return target
    return url_for(default)


def back(default: str = "web.inbox") -> Response:
    return redirect(safe_next(request.form.get("next") or request.args.get("next"), default))


@bp.before_request
def load_actor() -> Response | None:
    check_csrf()
    username = session.get("user")
    if username:
        try:
            g.actor = users.actor_for(services(), username)
        except Unauthorized:
            session.clear()
    if g.get("actor") is None and request.endpoint not in PUBLIC_ENDPOINTS:
        return redirect(url_for("web.login", next=request.full_path.rstrip("?")))
    return None


def days_of(args: Any, names: Iterable[str]) -> tuple[dict[str, date | None], dict[str, str]]:
    """Days of the query string (None when empty or unreadable), and a message for each that
    cannot be read."""
    days: dict[str, date | None] = {}
    problems: dict[str, str] = {}
    for name in names:
        raw = args.get(name, "").strip()
        try:
            days[name] = date.fromisoformat(raw) if raw else None
        except ValueError:
            days[name] = None
            problems[name] = gettext("Pick a day.")
    return days, problems


def case_label(instance_id: int, keys: dict[int, str]) -> str:
    """An instance as pages name it: its number, and its business key when it has one."""
    key = keys.get(instance_id)
    return f"#{instance_id} · {key}" if key else f"#{instance_id}"


def person(username: str | None) -> str:
    """A username as people read it: the user's display name (looked up once a request), the
    system by its translated name, anyone unknown (a deleted account) by the username itself."""
    if not username:
        return ""
    if username == users.SYSTEM_ACTOR:
        return gettext("the system")
    if "display_names" not in g:
        g.display_names = users.display_names(services())
    return g.display_names.get(username) or username


@bp.app_context_processor
def navigation() -> dict[str, Any]:
    current = g.get("actor")
    if current is None or request.blueprint != "web":
        return {
            "current_actor": None, "open_tasks": 0, "task_counts": {}, "nav_rotation": False,
            "nav_reports": False,
        }  # fmt: skip
    if "task_counts" not in g:
        g.task_counts = inbox.task_counts(services(), current)
    return {
        "current_actor": current,
        "open_tasks": sum(g.task_counts.values()),
        "task_counts": g.task_counts,
        "nav_rotation": rotation.may_view(current),
        "nav_reports": reports.may_read(current),
    }


@bp.after_request
def security_headers(response: Response) -> Response:
    """No framing, no sniffing, and only this server's own scripts (bpmn-js is served from static/)."""
    response.headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
        "font-src 'self' data:; object-src 'none'; frame-ancestors 'none'; base-uri 'self'; "
        "form-action 'self'",
    )
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    return response
