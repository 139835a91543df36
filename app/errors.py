"""Domain errors raised by services; adapters map them to HTTP or CLI output."""

from __future__ import annotations

from typing import Any


class AppError(Exception):
    code = "error"

    def __init__(self, message: str, details: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or []


class NotFound(AppError):
    code = "not_found"


class Conflict(AppError):
    code = "conflict"


class Suspended(Conflict):
    """The instance is suspended: nothing may change its tasks until it is resumed (409)."""


class InvalidInput(AppError):
    """The request is well-formed but its content is not acceptable (422)."""

    code = "invalid_input"


class BadRequest(AppError):
    code = "bad_request"


class Unauthorized(AppError):
    code = "unauthorized"


class Forbidden(AppError):
    code = "forbidden"


class Unavailable(AppError):
    """The server cannot take the request now, through no fault of its content (503); nothing
    was changed, and the same request may be sent again after `retry_after` seconds."""

    code = "unavailable"

    def __init__(self, message: str, *, retry_after: int = 5) -> None:
        super().__init__(message)
        self.retry_after = retry_after
