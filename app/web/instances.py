"""The instance page: diagram with marked elements, timeline, data, tasks; cancel and retry."""

from __future__ import annotations

import json
from datetime import date
from zoneinfo import ZoneInfo

from flask import Response, flash, redirect, render_template, url_for
from flask_babel import gettext as _

from ..errors import Conflict
from ..services.modelling import texts
from ..services.running import attachments, instances, suspension
from . import bp
from .common import actor, services
from .i18n import localized
from .layout import with_layout, with_names
from .summaries import case_facts, case_summary


def _today() -> date:
    return services().now().astimezone(ZoneInfo(services().settings.timezone)).date()


def action_labels() -> dict[str, str]:
    return {
        "instance.started": _("Started"),
        "instance.cancelled": _("Cancelled"),
        "instance.retried": _("Retried"),
        "task.claimed": _("Task claimed"),
        "task.unclaimed": _("Task released"),
        "task.assigned": _("Task assigned"),
        "task.completed": _("Task completed"),
        "attachment.added": _("File attached"),
        "timer.fired": _("Timer fired"),
        "message.received": _("Message received"),
        "message.delivered": _("Message received"),
        "message.held": _("Message kept while suspended"),
        "message.dropped": _("Message no longer awaited"),
        "instance.suspended": _("Suspended"),
        "instance.resumed": _("Resumed"),
        "instance.data_edited": _("Variables corrected"),
        "instance.migrated": _("Moved to another version"),
    }


@bp.get("/instances/<int:instance_id>")
def instance_page(instance_id: int):
    current = actor()
    view = instances.get_instance(services(), current, instance_id)
    try:
        files = attachments.list_attachments(services(), current, instance_id)
    except Exception:  # noqa: BLE001 - a viewer without a part in the instance sees no files
        files = []
    return render_template(
        "instance.html",
        instance=view,
        timeline=instances.history(services(), current, instance_id),
        printed=instances.printed_log(services(), current, instance_id),
        labels=action_labels(),
        element_titles=texts.element_titles(services(), view["process_model"], view["version"]),
        group_titles=texts.group_titles(services()),
        attachments=files,
        process_titles=texts.process_titles(services()),
        data_json=json.dumps(view["data"], ensure_ascii=False, indent=2, default=str),
        summary=case_summary(
            view["data"] or {}, texts.version_forms(services(), view["process_model"], view["version"])
        ),
        facts=case_facts(view["data"] or {}, view["status"], services().calendar, _today()),
        states_json=json.dumps(view["element_states"] or {}),
    )


@bp.get("/instances/<int:instance_id>/diagram.bpmn")
def diagram(instance_id: int):
    view = instances.get_instance(services(), actor(), instance_id)
    xml, labels = texts.diagram_with_labels(services(), view["process_model"], view["version"])
    names = {element_id: localized(by_language) for element_id, by_language in labels.items()}
    return Response(with_names(with_layout(xml), names), mimetype="application/xml")


@bp.post("/instances/<int:instance_id>/cancel")
def cancel(instance_id: int):
    try:
        instances.cancel_instance(services(), actor(), instance_id)
        flash(_("The instance is cancelled."), "success")
    except Conflict:
        flash(_("Someone else changed this in the meantime."), "error")
    return redirect(url_for("web.instance_page", instance_id=instance_id))


@bp.post("/instances/<int:instance_id>/suspend")
def suspend(instance_id: int):
    try:
        suspension.suspend_instance(services(), actor(), instance_id)
        flash(_("The instance is suspended."), "success")
    except Conflict:
        flash(_("Someone else changed this in the meantime."), "error")
    return redirect(url_for("web.instance_page", instance_id=instance_id))


@bp.post("/instances/<int:instance_id>/resume")
def resume(instance_id: int):
    try:
        suspension.resume_instance(services(), actor(), instance_id)
        flash(_("The instance is resumed."), "success")
    except Conflict:
        flash(_("Someone else changed this in the meantime."), "error")
    return redirect(url_for("web.instance_page", instance_id=instance_id))


@bp.post("/instances/<int:instance_id>/retry")
def retry(instance_id: int):
    try:
        view = instances.retry_instance(services(), actor(), instance_id)
        if view["status"] == "error":
            flash(_("The step failed again."), "error")
        else:
            flash(_("The failed step was run again."), "success")
    except Conflict:
        flash(_("Someone else changed this in the meantime."), "error")
    return redirect(url_for("web.instance_page", instance_id=instance_id))
