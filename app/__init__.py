"""Workflow server for the procedures of the Assembly of People of Kazakhstan."""

from __future__ import annotations

import logging

from flask import Flask, g, request
from flask.json.provider import DefaultJSONProvider
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from werkzeug.exceptions import HTTPException
from werkzeug.routing import IntegerConverter, ValidationError

from .engine import jsontext
from .engine.clock import Clock, SystemClock, use_clock
from .errors import Unavailable
from .settings import Settings

log = logging.getLogger(__name__)

# The largest id the databases store: ids are INTEGER columns (32 bits on PostgreSQL).
MAX_ID = 2**31 - 1


class BoundedIntConverter(IntegerConverter):
    """`<int:...>` in every route (all of them ids), bounded: an id beyond what the id columns
    hold matches no route (404) instead of reaching the database, which cannot bind it."""

    def to_python(self, value: str) -> int:
        number = super().to_python(value)
        if number > MAX_ID:
            raise ValidationError()
        return number


class BoundedJSONProvider(DefaultJSONProvider):
    """Request bodies parsed with a bound on nesting: too deep a body is malformed JSON (a 400
    where a body is read), not a RecursionError in whatever walks it next."""

    sort_keys = False  # answers keep the order the handlers give

    def loads(self, s: str | bytes, **kwargs: object) -> object:
        return jsontext.loads(s)


def create_app(settings: Settings | None = None, *, clock: Clock | None = None) -> Flask:
    """Build the application: database engine, session factory, services, blueprints, CLI."""
    from . import api
    from .cli.commands import register_commands
    from .db.session import make_engine, make_session_factory
    from .observability import init_request_log
    from .services.context import ServiceContext
    from .web import init_web
    from .web.errors import routing_error as page_routing_error
    from .web.errors import unavailable as page_unavailable

    settings = settings or Settings.from_env()
    clock = clock or SystemClock()
    use_clock(clock)

    app = Flask(__name__, instance_relative_config=False)
    app.json = BoundedJSONProvider(app)
    app.config.update(
        SECRET_KEY=settings.secret_key,
        MAX_CONTENT_LENGTH=settings.max_upload_bytes,
        SESSION_COOKIE_SECURE=settings.secure_cookies,
    )
    app.url_map.converters["int"] = BoundedIntConverter  # before any route is added
    if settings.database_url.startswith("sqlite:///"):
        from pathlib import Path

        Path(settings.database_url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.database_url)
    app.extensions["services"] = ServiceContext(make_session_factory(engine), settings, clock=clock)
    app.extensions["db_engine"] = engine

    app.register_blueprint(api.bp)
    init_web(app, settings)

    @app.errorhandler(404)
    @app.errorhandler(405)
    def _not_routed(exc: HTTPException):
        # Routing errors reach no blueprint: the API answers in JSON, the pages with a page.
        return api.routing_error(exc) if api.owns(request.path) else page_routing_error(exc)

    @app.errorhandler(OperationalError)
    @app.errorhandler(InterfaceError)
    def _database_unavailable(exc: DBAPIError):
        # The database restarting or out of reach (a connection refused or dropped): 503 with
        # Retry-After, as when the sandbox is busy. The pool drops its dead connections, and the
        # next request after the database is back gets a new one: no restart needed.
        # Besides a lost connection, the same errors are a deadlock, a lock or statement timeout,
        # SQLite busy: worth a retry too. What it was is logged, with where, for the operators.
        log.warning("the database could not serve the request: %s", exc.orig or exc, exc_info=True)
        g.task_counts = {}  # the page's navigation must not ask the database again
        unavailable = Unavailable("the database is not answering: try again in a few seconds")
        return api.unavailable(unavailable) if api.owns(request.path) else page_unavailable(unavailable)

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        """Liveness: the process answers (it does not ask the database)."""
        return {"status": "ok"}

    @app.get("/readyz")
    def readyz():
        """Readiness: the database answers and has the schema this code needs."""
        from .db.migrate import head_revision, schema_problem

        problem = schema_problem(engine)
        if problem is not None:
            return {"status": "unavailable", "reason": problem}, 503, {"Retry-After": "5"}
        return {"status": "ready", "revision": head_revision()}

    @app.after_request
    def _strict_transport(response):
        # Behind TLS (as the trusted proxy reports it), browsers keep to HTTPS from then on.
        if request.is_secure:
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        return response

    if settings.trusted_proxy_hops:
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = settings.trusted_proxy_hops
        proxied = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops)
        app.wsgi_app = proxied  # type: ignore[method-assign]
    init_request_log(app, trust_given_ids=settings.trusted_proxy_hops > 0)

    register_commands(app)
    return app
