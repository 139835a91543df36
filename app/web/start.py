"""The start page: the processes the user may start, with a start form when the model has one."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.datastructures import MultiDict

from ..errors import InvalidInput
from ..services.modelling import texts
from ..services.running import instances, startable
from ..services.work.forms import validation_errors
from . import bp
from .common import actor, services
from .formgen import build_fields, field_name, parse_form
from .messages import localize_error


def _model(model_id: str) -> dict[str, Any]:
    for model in startable.startable_models(services(), actor()):
        if model["id"] == model_id:
            return model
    abort(404)


@bp.get("/start")
def start_list():
    return render_template(
        "start.html",
        models=startable.startable_models(services(), actor()),
        group_titles=texts.group_titles(services()),
    )


def _start_form(
    model: dict[str, Any], values: MultiDict[str, str], errors: list[dict[str, Any]], status: int
):
    by_name = {field_name(e.get("field", "$")): localize_error(e.get("message", "")) for e in errors}
    fields = build_fields(
        model["schema"], model["ui_schema"], values, by_name, timezone=services().settings.timezone
    )
    return render_template("start_form.html", model=model, fields=fields, errors=by_name), status


@bp.get("/start/<model_id>")
def start_form(model_id: str):
    model = _model(model_id)
    if not model["schema"]:
        return redirect(url_for("web.start_list"))
    return _start_form(model, MultiDict(), [], 200)


@bp.post("/start/<model_id>")
def start_instance(model_id: str):
    model = _model(model_id)
    data: dict[str, Any] = {}
    if model["schema"]:
        data, _uploads = parse_form(
            model["schema"], model["ui_schema"], request.form, request.files, services().settings.timezone
        )
        problems = validation_errors(model["schema"], data)
        if problems:
            return _start_form(model, request.form, problems, 422)
    try:
        view = instances.start_instance(services(), actor(), model_id, data)
    except InvalidInput as exc:
        return _start_form(model, request.form, exc.details, 422)
    flash(_("The process is started."), "success")
    mine = [t for t in view["tasks"] if t["assignee"] in (None, actor().username)]
    if mine and (mine[0].get("lane") in actor().groups or mine[0]["assignee"] == actor().username):
        return redirect(url_for("web.task_page", task_id=mine[0]["id"]))
    return redirect(url_for("web.instance_page", instance_id=view["id"]))
