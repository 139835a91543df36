"""Error pages: domain errors and HTTP errors of the web pages, translated."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException

from ..errors import (
    AppError,
    BadRequest,
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    Unauthorized,
    Unavailable,
)
from . import bp
from .common import safe_next

STATUS_BY_ERROR = {
    BadRequest: 400, Forbidden: 403, NotFound: 404, Conflict: 409, InvalidInput: 422, Unavailable: 503,
}  # fmt: skip


def _titles() -> dict[int, str]:
    return {
        400: _("The request could not be understood."),
        403: _("You may not do this."),
        404: _("This page does not exist."),
        405: _("This action is not allowed here."),
        409: _("Someone else changed this in the meantime."),
        413: _("The file is too large."),
        422: _("The data is not valid."),
        500: _("Something went wrong on the server."),
        503: _("The server is busy. Nothing was changed: try again in a few seconds."),
    }


def error_page(status: int, detail: str = ""):
    title = _titles().get(status, _("Something went wrong on the server."))
    return render_template("error.html", status=status, title=title, detail=detail), status


JSON_CALLS = "/editor/api/"  # the editor's calls: answered as the REST API answers


def _json_error(code: str, message: str, status: int, details: list | None = None):
    return {"error": code, "message": message, "details": details or []}, status


@bp.errorhandler(AppError)
def _app_error(exc: AppError):
    if request.path.startswith(JSON_CALLS):
        status = 401 if isinstance(exc, Unauthorized) else None
        status = status or next((s for cls, s in STATUS_BY_ERROR.items() if isinstance(exc, cls)), 400)
        return _json_error(exc.code, exc.message, status, exc.details)
    if isinstance(exc, Unauthorized):
        return redirect(url_for("web.login", next=request.full_path.rstrip("?")))
    if isinstance(exc, Unavailable):
        return unavailable(exc)
    status = next((s for cls, s in STATUS_BY_ERROR.items() if isinstance(exc, cls)), 400)
    return error_page(status)


def unavailable(exc: Unavailable):
    page, status = error_page(503)
    return page, status, {"Retry-After": str(exc.retry_after)}


@bp.errorhandler(HTTPException)
def _http_error(exc: HTTPException):
    if request.path.startswith(JSON_CALLS):
        signed_out = exc.description == "csrf" and not session.get("user")
        message = "you were signed out: sign in again" if signed_out else str(exc.description or exc.name)
        code = "unauthorized" if signed_out else exc.name.lower().replace(" ", "_")
        return _json_error(code, message, 401 if signed_out else exc.code or 500)
    if exc.description == "csrf":
        return _expired_form()
    return error_page(exc.code or 500)


def _expired_form():
    """A form sent with a stale token: signed out meanwhile (in another tab), or a page kept open
    across a new sign-in. What was typed into a task's form is kept in the browser (drafts.js),
    so the answer leads back to that form rather than to an error."""
    again = request.path if request.endpoint == "web.complete" else _referring_page()
    if not session.get("user"):
        flash(_("You were signed out (in another tab?). Sign in again: what you typed is kept."), "error")
        return redirect(url_for("web.login", next=again))
    if request.endpoint == "web.complete":
        flash(_("The page had expired. What you typed is filled in again: check it and send it."), "error")
        return redirect(again)
    return error_page(400, _("The form has expired. Go back, reload the page and try again."))


def _referring_page() -> str:
    referrer = urlsplit(request.referrer or "")
    same_site = referrer.netloc == request.host and referrer.path.startswith("/")
    return safe_next(referrer.path if same_site else None)


def routing_error(exc: HTTPException):
    """An unknown address or a wrong method outside the REST API: the translated page (a 405
    names the methods the address takes)."""
    page, status = error_page(exc.code or 404)
    allowed = getattr(exc, "valid_methods", None)
    return (
        (page, status, {"Allow": ", ".join(sorted(allowed))}) if status == 405 and allowed else (page, status)
    )
