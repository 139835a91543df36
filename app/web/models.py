"""The models pages (analysts, administrators): every model, a model's versions, a version's files
as a zip, and two versions compared."""

from __future__ import annotations

import io

from flask import flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _

from ..errors import InvalidInput
from ..services.modelling import catalogue, drafts, texts
from . import bp, editor_texts
from .common import actor, services


@bp.get("/models")
def models_page():
    search = request.args.get("q", "")[:200]
    return render_template(
        "models.html",
        models=catalogue.list_models(services(), actor(), search),
        search=search,
        process_titles=texts.process_titles(services()),
    )


@bp.post("/models/import")
def import_model():
    """Files made in another modeller: the analyst's draft of the model they define, opened in
    the editor (nothing is deployed until they deploy it)."""
    uploads = request.files.getlist("files")
    files = {upload.filename or "": upload.read() for upload in uploads if upload.filename}
    try:
        model_id = drafts.import_files(services(), actor(), files)
    except InvalidInput as exc:
        flash(_("The files were not imported: %(why)s", why=_details(exc)), "error")
        return redirect(url_for("web.models_page"))
    return redirect(url_for("web.editor_page", model_id=model_id))


def _details(exc: InvalidInput) -> str:
    return "; ".join(f"{d.get('field', '')}: {d.get('message', '')}" for d in exc.details) or exc.message


@bp.get("/models/<model_id>")
def model_page(model_id: str):
    detail = catalogue.model_detail(services(), actor(), model_id)
    return render_template(
        "model.html", model=detail, process_titles=texts.process_titles(services()), current=actor().username
    )


@bp.get("/models/<model_id>/versions/<int:version>.zip")
def model_zip(model_id: str, version: int):
    content = catalogue.version_zip(services(), actor(), model_id, version)
    return send_file(
        io.BytesIO(content),
        mimetype="application/zip",
        as_attachment=True,
        download_name=f"{model_id}-v{version}.zip",
    )


def _version_arg(name: str, default: int) -> int:
    raw = request.args.get(name, "")
    return int(raw) if raw.isdigit() and len(raw) < 10 else default


@bp.get("/models/<model_id>/compare")
def compare_page(model_id: str):
    detail = catalogue.model_detail(services(), actor(), model_id)
    newest = detail["newest_version"]
    new = _version_arg("to", newest)
    old = _version_arg("from", max(new - 1, 1))
    diff, diagram, problem = None, {}, None
    try:
        diff, diagram = catalogue.compare_with_diagram(services(), actor(), model_id, old, new)
    except InvalidInput as exc:
        problem = exc.message
    return render_template(
        "compare.html",
        model=detail,
        old=old,
        new=new,
        diff=diff,
        problem=problem,
        diagram=diagram,
        process_titles=texts.process_titles(services()),
        editor_texts=editor_texts.translated("compare."),
    )
