"""Moving an instance to another version from its page (administrators): the preview, then the move."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from ..errors import AppError
from ..services.running import migration
from . import bp
from .common import actor, services


def _version() -> int | None:
    raw = request.values.get("to", "").strip()
    return int(raw) if raw.isdigit() and len(raw) < 10 and int(raw) > 0 else None


@bp.get("/instances/<int:instance_id>/migration")
def migration_preview(instance_id: int):
    version = _version()
    if version is None:
        flash(_("Give the version to move to as a whole number."), "error")
        return redirect(url_for("web.instance_page", instance_id=instance_id))
    preview = migration.preview(services(), actor(), instance_id, version)
    return render_template("migration.html", preview=preview)


@bp.post("/instances/<int:instance_id>/migrate")
def migrate(instance_id: int):
    version = _version()
    if version is None:
        flash(_("Give the version to move to as a whole number."), "error")
        return redirect(url_for("web.instance_page", instance_id=instance_id))
    try:
        migration.migrate_instance(services(), actor(), instance_id, version)
        flash(_("The instance is moved to version %(n)s.", n=version), "success")
    except AppError as exc:
        flash(exc.message, "error")
    return redirect(url_for("web.instance_page", instance_id=instance_id))
