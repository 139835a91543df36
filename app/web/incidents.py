"""The incidents page (administrators): failed instances; retry or cancel the selected ones, and
correct an instance's variables from its page."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from ..engine import jsontext
from ..errors import AppError, InvalidInput
from ..services.modelling import texts
from ..services.people import administration
from ..services.running import incidents, instance_search
from . import bp
from .common import actor, services

OUTCOMES = {"done": "success", "failed again": "error", "refused": "error"}


@bp.get("/incidents")
def incidents_page():
    model_id = request.args.get("process_model") or None
    found = incidents.list_incidents(services(), actor(), model_id=model_id, limit=500)
    return render_template(
        "incidents.html",
        incidents=found,
        reserved=administration.reserved_for_inactive(services(), actor()),
        case_keys=instance_search.business_keys(services(), (i["instance_id"] for i in found)),
        process_model=model_id or "",
        element_titles=texts.latest_element_titles(services()),
        process_titles=texts.process_titles(services()),
    )


@bp.post("/incidents")
def act_on_incidents():
    chosen = [int(i) for i in request.form.getlist("instance") if i.isdigit()]
    if not chosen:
        flash(_("Select at least one instance."), "error")
        return redirect(url_for("web.incidents_page"))
    act = incidents.cancel_many if request.form.get("action") == "cancel" else incidents.retry_many
    for result in act(services(), actor(), chosen):
        flash(_outcome_text(result), OUTCOMES[result["outcome"]])
    return redirect(url_for("web.incidents_page"))


def _outcome_text(result: dict) -> str:
    number = result["instance_id"]
    if result["outcome"] == "done":
        return _("Instance #%(id)s: done, now %(status)s.", id=number, status=_(result["status"]))
    if result["outcome"] == "failed again":
        return _("Instance #%(id)s: the step failed again: %(message)s", id=number, message=result["message"])
    return _("Instance #%(id)s: not changed: %(message)s", id=number, message=result["message"])


@bp.post("/instances/<int:instance_id>/data")
def edit_instance_data(instance_id: int):
    text = request.form.get("changes", "")
    try:
        changes = jsontext.loads(text)
        if not isinstance(changes, dict):
            raise ValueError
    except ValueError:
        flash(_('Write the variables as a JSON object, e.g. {"divisor": 4}.'), "error")
        return redirect(url_for("web.instance_page", instance_id=instance_id))
    try:
        incidents.edit_data(services(), actor(), instance_id, changes)
        flash(_("The variables are set. Retry the failed step to go on."), "success")
    except (InvalidInput, AppError) as exc:
        flash(exc.message, "error")
    return redirect(url_for("web.instance_page", instance_id=instance_id))
