"""The timers page (administrators): upcoming timers with their instances; fire one now or move it."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from ..errors import AppError
from ..services.modelling import texts
from ..services.running import instance_search
from ..services.time import timer_admin
from . import bp
from .common import actor, services


@bp.get("/timers")
def timers_page():
    model_id = request.args.get("process_model") or None
    upcoming = timer_admin.list_timers(services(), actor(), model_id=model_id, limit=200)
    return render_template(
        "timers.html",
        timers=upcoming,
        case_keys=instance_search.business_keys(services(), (t["instance_id"] for t in upcoming)),
        process_model=model_id or "",
        element_titles=texts.latest_element_titles(services()),
        process_titles=texts.process_titles(services()),
    )


def _local_to_aware(value: str) -> datetime:
    """A datetime-local field (no offset) read in the application's time zone."""
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(services().settings.timezone))
    return moment


@bp.post("/timers/<int:timer_id>/fire")
def fire_timer(timer_id: int):
    try:
        timer_admin.fire_timer_now(services(), actor(), timer_id)
        flash(_("The timer fired."), "success")
    except AppError as exc:
        flash(exc.message, "error")
    return redirect(url_for("web.timers_page"))


@bp.post("/timers/<int:timer_id>/move")
def move_timer(timer_id: int):
    try:
        due_at = _local_to_aware(request.form.get("due_at", ""))
    except ValueError:
        flash(_("Enter a date and time."), "error")
        return redirect(url_for("web.timers_page"))
    try:
        timer_admin.move_timer(services(), actor(), timer_id, due_at)
        flash(_("The timer was moved."), "success")
    except AppError as exc:
        flash(exc.message, "error")
    return redirect(url_for("web.timers_page"))
