"""Staff settings pages: the Deputy Chairmen's rotation terms, and working-day transfers."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from ..errors import InvalidInput, NotFound
from ..services.time import calendar_transfers, rotation
from . import bp
from .common import actor, services


def _int_or_none(value: str | None) -> int | str | None:
    value = (value or "").strip()
    if not value:
        return None
    try:
        return int(value)
    except ValueError:
        return value  # the service refuses it with the field's name


def _field_errors(exc: InvalidInput) -> dict[str, str]:
    return {d.get("field", ""): d.get("message", "") for d in exc.details}


@bp.get("/rotation")
def rotation_page():
    view = rotation.get_rotation(services(), actor())
    return render_template("rotation.html", term=view, may_edit=rotation.may_edit(actor()), errors={})


@bp.post("/rotation")
def rotation_update():
    form = request.form
    changes: dict[str, Any] = {
        "term_end": form.get("term_end") or None,
        "term_months": _int_or_none(form.get("term_months")),
        "lead_days": _int_or_none(form.get("lead_days")),
        "deputies": [d for d in form.getlist("deputy") if d.strip()],
    }
    try:
        rotation.update_rotation(services(), actor(), changes)
    except InvalidInput as exc:
        view = rotation.get_rotation(services(), actor())
        flash(_("The form has errors. Correct the marked fields."), "error")
        page = render_template("rotation.html", term=view, may_edit=True, errors=_field_errors(exc))
        return page, 422
    flash(_("The rotation term is saved; the next rotation is rescheduled."), "success")
    return redirect(url_for("web.rotation_page"))


@bp.get("/calendar")
def calendar_page():
    transfers = calendar_transfers.list_transfers(services(), actor())
    return render_template("calendar.html", transfers=transfers, errors={})


@bp.post("/calendar")
def calendar_add():
    form = request.form
    try:
        calendar_transfers.set_transfer(
            services(), actor(), form.get("day", ""), form.get("kind", ""), form.get("note", "").strip()
        )
    except InvalidInput as exc:
        transfers = calendar_transfers.list_transfers(services(), actor())
        flash(_("The form has errors. Correct the marked fields."), "error")
        return render_template("calendar.html", transfers=transfers, errors=_field_errors(exc)), 422
    flash(_("The day is recorded."), "success")
    return redirect(url_for("web.calendar_page"))


@bp.post("/calendar/<day>/remove")
def calendar_remove(day: str):
    try:
        calendar_transfers.remove_transfer(services(), actor(), day)
        flash(_("The day is removed."), "success")
    except NotFound:
        flash(_("This day was already removed."), "error")
    return redirect(url_for("web.calendar_page"))
