"""Moving instances to another version (administrators): one from its page, with a preview first,
or every running instance of a version from the instances page, as a job whose page shows progress."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from ..errors import AppError
from ..services.running import bulk_migration, migration
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


@bp.post("/process-models/<model_id>/versions/<int:version>/migrate")
def migrate_version(model_id: str, version: int):
    target = _version()
    if target is None:
        flash(_("Give the version to move to as a whole number."), "error")
        return redirect(url_for("web.instances_list", model_id=model_id, version=version))
    try:
        job = bulk_migration.start_job(services(), actor(), model_id, version, target)
    except AppError as exc:
        flash(exc.message, "error")
        return redirect(url_for("web.instances_list", model_id=model_id, version=version))
    return redirect(url_for("web.migration_job", job_id=job["id"]))


@bp.get("/migration-jobs/<int:job_id>")
def migration_job(job_id: int):
    return render_template("migration_job.html", job=bulk_migration.get_job(services(), actor(), job_id))
