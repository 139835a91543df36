"""Error pages: domain errors and HTTP errors of the web pages, translated."""

from __future__ import annotations

from flask import redirect, render_template, request, url_for
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


@bp.errorhandler(AppError)
def _app_error(exc: AppError):
    if isinstance(exc, Unauthorized):
        return redirect(url_for("web.login", next=request.full_path.rstrip("?")))
    status = next((s for cls, s in STATUS_BY_ERROR.items() if isinstance(exc, cls)), 400)
    page = error_page(status)
    if isinstance(exc, Unavailable):
        return page[0], status, {"Retry-After": str(exc.retry_after)}
    return page


@bp.errorhandler(HTTPException)
def _http_error(exc: HTTPException):
    if exc.description == "csrf":
        return error_page(400, _("The form has expired. Go back, reload the page and try again."))
    return error_page(exc.code or 500)


def routing_error(exc: HTTPException):
    """An unknown address or a wrong method outside the REST API: the translated page."""
    return error_page(exc.code or 404)
