"""REST API under /api/v1: JSON in and out, errors as {error, message, details}."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify
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

bp = Blueprint("api", __name__, url_prefix="/api/v1")

STATUS_BY_ERROR = {
    BadRequest: 400,
    Unauthorized: 401,
    Forbidden: 403,
    NotFound: 404,
    Conflict: 409,
    InvalidInput: 422,
    Unavailable: 503,
}


def error_response(code: str, message: str, status: int, details: list | None = None):
    response = jsonify({"error": code, "message": message, "details": details or []})
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="api"'
    return response


@bp.errorhandler(AppError)
def _app_error(exc: AppError):
    if isinstance(exc, Unavailable):
        return unavailable(exc)
    status = next((s for cls, s in STATUS_BY_ERROR.items() if isinstance(exc, cls)), 400)
    return error_response(exc.code, exc.message, status, exc.details)


def unavailable(exc: Unavailable):
    response = error_response(exc.code, exc.message, 503, exc.details)
    response.headers["Retry-After"] = str(exc.retry_after)
    return response


@bp.errorhandler(HTTPException)
def _http_error(exc: HTTPException):
    code = (exc.name or "error").lower().replace(" ", "_")
    response = error_response(code, exc.description or exc.name, exc.code or 500)
    return with_allow(response, exc)


def with_allow(response: Any, exc: HTTPException) -> Any:
    """A 405 names the methods the address does take (RFC 9110)."""
    allowed = getattr(exc, "valid_methods", None)
    if exc.code == 405 and allowed:
        response.headers["Allow"] = ", ".join(sorted(allowed))
    return response


def routing_error(exc: HTTPException):
    """A 404/405 of routing under /api/v1 (blueprint handlers never see those), in JSON."""
    return _http_error(exc)


def owns(path: str) -> bool:
    return path == bp.url_prefix or path.startswith(f"{bp.url_prefix}/")


from . import (  # noqa: E402,F401
    auth,
    calendar,
    contract,
    incidents,
    instances,
    messages,
    openapi,
    process_models,
    rotation,
    tasks,
    timers,
    users,
)
