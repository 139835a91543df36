"""Workflow server for the procedures of the Assembly of People of Kazakhstan."""

from __future__ import annotations

from flask import Flask

from .engine.clock import Clock, SystemClock, use_clock
from .settings import Settings


def create_app(settings: Settings | None = None, *, clock: Clock | None = None) -> Flask:
    """Build the application: database engine, session factory, services, blueprints, CLI."""
    from .api import bp as api_bp
    from .cli.commands import register_commands
    from .db.session import make_engine, make_session_factory
    from .services.context import ServiceContext

    settings = settings or Settings.from_env()
    clock = clock or SystemClock()
    use_clock(clock)

    app = Flask(__name__, instance_relative_config=False)
    app.config.update(
        SECRET_KEY=settings.secret_key,
        MAX_CONTENT_LENGTH=settings.max_upload_bytes,
        JSON_SORT_KEYS=False,
    )
    if settings.database_url.startswith("sqlite:///"):
        from pathlib import Path

        Path(settings.database_url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.database_url)
    app.extensions["services"] = ServiceContext(make_session_factory(engine), settings, clock=clock)
    app.extensions["db_engine"] = engine

    app.register_blueprint(api_bp)

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    register_commands(app)
    return app
