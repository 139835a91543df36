"""Server-rendered pages (blueprint "web"): sign-in, inbox, task forms, instances, start."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from flask import Blueprint

if TYPE_CHECKING:
    from flask import Flask

    from ..settings import Settings

bp = Blueprint(
    "web",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/web-static",
)


def init_web(app: Flask, settings: Settings) -> None:
    """Sessions, CSRF, Flask-Babel (catalogues compiled when missing) and the blueprint."""
    from . import csrf, i18n
    from .common import case_label, person
    from .sessions import PageSessionInterface

    app.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_NAME="assembly_session",
        PERMANENT_SESSION_LIFETIME=timedelta(hours=12),
    )
    app.session_interface = PageSessionInterface()
    i18n.init_babel(app, settings)
    csrf.init_csrf(app)
    app.jinja_env.filters["person"] = person
    app.jinja_env.filters["case_label"] = case_label
    app.register_blueprint(bp)


from . import (  # noqa: E402,F401
    admin,
    auth,
    editor,
    errors,
    inbox,
    incidents,
    instance_list,
    instances,
    migration,
    models,
    people,
    reports,
    sandbox,
    start,
    task,
    timers,
)
