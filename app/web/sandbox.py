"""The sandbox page (administrators): limits of diagram code and the isolation layers in force."""

from __future__ import annotations

from flask import render_template

from ..services.operations import sandbox_status
from . import bp
from .common import actor, services


@bp.get("/sandbox")
def sandbox_page():
    status = sandbox_status.sandbox_status(services(), actor())
    return render_template("sandbox.html", status=status)
