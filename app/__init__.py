"""Workflow server for the procedures of the Assembly of People of Kazakhstan."""

from __future__ import annotations

from flask import Flask, request
from werkzeug.exceptions import HTTPException
from werkzeug.routing import IntegerConverter, ValidationError

from .engine.clock import Clock, SystemClock, use_clock
from .settings import Settings

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



def create_app(settings: Settings | None = None, *, clock: Clock | None = None) -> Flask:
    """Build the application: database engine, session factory, services, blueprints, CLI."""
    from . import api
    from .cli.commands import register_commands
    from .db.session import make_engine, make_session_factory
    from .services.context import ServiceContext
    from .web import init_web
    from .web.errors import routing_error as page_routing_error

    settings = settings or Settings.from_env()
    clock = clock or SystemClock()
    use_clock(clock)

    app = Flask(__name__, instance_relative_config=False)
    app.config.update(
        SECRET_KEY=settings.secret_key,
        MAX_CONTENT_LENGTH=settings.max_upload_bytes,
        SESSION_COOKIE_SECURE=settings.secure_cookies,
    )
    app.json.sort_keys = False  # type: ignore[attr-defined]
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

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    register_commands(app)
    return app
