"""What the server tells its operators: logs as JSON lines (python-json-logger) or plain text, one
line per request with its id, user, status and duration, and the request id in the answer's
`X-Request-ID` header and in every audit record the request writes."""

from __future__ import annotations

import logging
import re
import time
import uuid

from flask import Flask, Response, g, request
from pythonjsonlogger.json import JsonFormatter

from .services.audit import REQUEST_ID
from .settings import Settings

REQUEST_ID_HEADER = "X-Request-ID"
# An id a proxy gave the request is kept when it is plain enough to write in a log line.
_GIVEN_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
requests_log = logging.getLogger("app.requests")


def configure_logging(settings: Settings, level: str = "INFO") -> None:
    """The root logger writes to stderr, one JSON object a line (LOG_FORMAT=json, the default in
    production) or plain text: the application's own records from `level` up, the libraries'
    warnings and errors (SpiffWorkflow logs every task's change of state as INFO)."""
    handler = logging.StreamHandler()
    if settings.log_format == "json":
        handler.setFormatter(
            JsonFormatter(
                "{asctime}{levelname}{name}{message}",
                style="{",
                rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
                json_ensure_ascii=False,
            )
        )
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.WARNING)
    logging.getLogger("app").setLevel(level)


def init_request_log(app: Flask, *, trust_given_ids: bool) -> None:
    """`trust_given_ids`: keep the id a request comes with (behind trusted proxies, which set
    it); else every request gets one of ours, so that no client can write what audit records say."""

    @app.before_request
    def _start() -> None:
        given = request.headers.get(REQUEST_ID_HEADER, "") if trust_given_ids else ""
        g.request_id = given if _GIVEN_ID.match(given) else uuid.uuid4().hex
        g.request_started = time.perf_counter()
        g.request_id_token = REQUEST_ID.set(g.request_id)

    @app.after_request
    def _log(response: Response) -> Response:
        request_id = g.get("request_id")
        if request_id is None:  # the request failed before it began (a routing error)
            return response
        response.headers[REQUEST_ID_HEADER] = request_id
        actor = g.get("actor")
        requests_log.info(
            "%s %s %s",
            request.method,
            request.path,
            response.status_code,
            extra={
                "request_id": request_id,
                "method": request.method,
                "path": request.path,
                "status": response.status_code,
                "duration_ms": round((time.perf_counter() - g.request_started) * 1000, 1),
                "user": actor.username if actor is not None else None,
                "remote_addr": request.remote_addr,
            },
        )
        return response

    @app.teardown_request
    def _end(_exc: BaseException | None) -> None:
        token = g.pop("request_id_token", None)
        if token is not None:
            REQUEST_ID.reset(token)
