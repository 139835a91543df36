"""The inbox: scopes, filters, sorting, pages, saved filters; claim and unclaim in one click."""

from __future__ import annotations

from urllib.parse import urlencode

from flask import flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _

from ..errors import Conflict, Forbidden, InvalidInput, Suspended
from ..services.modelling import texts
from ..services.running import instance_search
from ..services.work import inbox as inbox_service
from ..services.work import tasks
from . import bp
from .common import actor, back, services

REMEMBERED_SCOPE = "inbox_scope"


def _opening_scope(counts: dict[str, int]) -> str:
    """Where the inbox opens without a chosen tab: the tab last chosen if it has work, else
    "mine" if it has work, else the groups' tab."""
    remembered = session.get(REMEMBERED_SCOPE)
    if remembered in ("mine", "available") and counts.get(remembered):
        return str(remembered)
    return "mine" if counts.get("mine") else "available"


@bp.get("/inbox")
def inbox():
    current = actor()
    args = request.args
    if args.get("scope") in inbox_service.SCOPES:
        session[REMEMBERED_SCOPE] = args["scope"]
    else:
        g.task_counts = counts = inbox_service.task_counts(services(), current)
        args = {**args, "scope": _opening_scope(counts)}
    query = inbox_service.InboxQuery.from_mapping(args)
    if query.scope == "all" and not current.is_admin:
        query = inbox_service.InboxQuery.from_mapping({**args, "scope": "mine"})
    page = inbox_service.inbox_page(services(), current, query)
    return render_template(
        "inbox.html",
        page=page,
        case_keys=instance_search.business_keys(services(), (row.instance_id for row in page.rows)),
        saved=inbox_service.list_saved_filters(services(), current),
        process_titles=texts.process_titles(services()),
        group_titles=texts.group_titles(services()),
        groups=sorted(current.groups),
        page_url=lambda number: url_for("web.inbox", **query.as_saved(), page=number),
    )


def _task_action(action, task_id: str, done: str):
    try:
        action(services(), actor(), task_id)
        flash(done, "success")
    except Suspended:
        flash(_("This case is suspended: its tasks wait until an administrator resumes it."), "error")
    except Conflict:
        flash(_("Someone else changed this task in the meantime."), "error")
    except Forbidden:
        flash(_("You may not do this."), "error")
    return back()


@bp.post("/tasks/<task_id>/claim")
def claim(task_id: str):
    return _task_action(tasks.claim_task, task_id, _("The task is now yours."))


@bp.post("/tasks/<task_id>/unclaim")
def unclaim(task_id: str):
    return _task_action(tasks.unclaim_task, task_id, _("The task is back in the group's queue."))


@bp.post("/filters")
def save_filter():
    query = inbox_service.InboxQuery.from_mapping(request.form)
    try:
        inbox_service.save_filter(
            services(), actor(), request.form.get("name", ""), query, request.form.get("shared_group") or None
        )
        flash(_("The filter is saved."), "success")
    except InvalidInput:
        flash(_("Give the filter a name (up to 100 characters)."), "error")
    return redirect(url_for("web.inbox") + "?" + urlencode(query.as_saved()))


@bp.post("/filters/<int:filter_id>/delete")
def delete_filter(filter_id: int):
    inbox_service.delete_filter(services(), actor(), filter_id)
    flash(_("The filter is deleted."), "success")
    return redirect(url_for("web.inbox"))
