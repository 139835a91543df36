"""The task page: instructions, the instance data, the generated form; completing the task."""

from __future__ import annotations

import io
from datetime import datetime
from typing import Any

from flask import flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from markupsafe import Markup, escape
from werkzeug.datastructures import MultiDict

from ..errors import Conflict, Forbidden, InvalidInput, NotFound
from ..services.modelling import texts
from ..services.running import attachments, instance_search
from ..services.work import task_afterwards as afterwards
from ..services.work import tasks
from ..services.work.inbox import urgency
from . import bp
from .common import actor, services
from .formgen import build_fields, field_name, flatten, parse_form, set_path
from .i18n import localized, show_value
from .markdown import render
from .messages import field_error_text
from .summaries import case_summary, poll_sentence


def _timezone() -> str:
    return services().settings.timezone


def _render(
    task: dict[str, Any], values: MultiDict[str, str], errors: list[dict[str, Any]], status: int = 200
):
    form = task["form"]
    by_name = {field_name(e.get("field", "$")): field_error_text(e, actor().language) for e in errors}
    fields = build_fields(form["schema"], form["ui_schema"], values, by_name, timezone=_timezone())
    known = _known_names(fields)
    general = [m for n, m in by_name.items() if n not in known]
    files = attachments.list_attachments(services(), actor(), task["instance_id"])
    page = render_template(
        "task.html",
        task=task,
        case_keys=instance_search.business_keys(services(), [task["instance_id"]]),
        fields=fields,
        general_errors=general,
        instructions=render(
            localized({"en": task.get("instructions"), **(task.get("instruction_texts") or {})}) or None,
            task.get("data") or {},
            show_value,
        ),
        process_titles=texts.process_titles(services()),
        urgency=urgency(datetime.fromisoformat(task["due_at"]), services().now())
        if task.get("due_at")
        else "",
        legal_basis=texts.legal_basis_of(services(), task["instance_id"], task["name"]),
        case_data=case_summary(task.get("data") or {}, texts.instance_forms(services(), task["instance_id"])),
        attachments=files,
        attachment_names={a.id: a.filename for a in files},
    )
    return page, status


def _known_names(fields: list[Any]) -> set[str]:
    names: set[str] = set()
    for item in fields:
        names.add(item.name)
        for row in item.rows:
            names |= _known_names(row)
    return names


def _store_uploads(task: dict[str, Any], data: dict[str, Any], uploads: list[tuple[str, Any]]) -> None:
    """Keep each uploaded file with the instance; the form value becomes the attachment's id."""
    for name, upload in uploads:
        stored = attachments.add_attachment(
            services(),
            actor(),
            instance_id=task["instance_id"],
            task_id=task["id"],
            field=name,
            filename=upload.filename or "",
            content_type=upload.mimetype,
            content=upload.read(),
        )
        set_path(data, name, stored.id)


@bp.get("/tasks/<task_id>")
def task_page(task_id: str):
    try:
        task = tasks.get_task(services(), actor(), task_id)
    except NotFound:
        # A task the person could see a moment ago (Back after sending it): say what became of it.
        return _afterwards(task_id, typed=None, status=200)
    return _render(task, flatten(task.get("data") or {}, timezone=_timezone()), [])


@bp.post("/tasks/<task_id>")
def complete(task_id: str):
    try:
        task = tasks.get_task(services(), actor(), task_id)
    except NotFound:
        return _afterwards(task_id, typed=request.form, status=409)
    form = task["form"]
    data, uploads = parse_form(form["schema"], form["ui_schema"], request.form, request.files, _timezone())
    try:
        _store_uploads(task, data, uploads)
        result = tasks.complete_task(services(), actor(), task_id, data)
    except InvalidInput as exc:
        return _render(task, flatten(data, timezone=_timezone()), exc.details, 422)
    except (Conflict, Forbidden) as exc:
        # Completed, claimed or withdrawn meanwhile: keep what was typed and say what happened.
        after = afterwards.afterwards(services(), actor(), task_id)
        if after.what == afterwards.CLAIMED and after.by is None:
            raise exc  # refused for another reason (not a member of the task's groups)
        return _afterwards(task_id, typed=request.form, status=409, after=after)
    flash(url_for("web.task_page", task_id=task_id), "draft-done")
    flash(_("The task is completed."), "success")
    for following in result["next_tasks"]:
        link = url_for("web.task_page", task_id=following["id"])
        flash(
            Markup('{} <a href="{}">{}</a>').format(
                _("The next task is yours:"),
                link,
                escape(following["titles"].get(actor().language) or following["title"]),
            ),
            "next",
        )
        break
    return redirect(url_for("web.inbox"))


@bp.get("/attachments/<attachment_id>")
def attachment(attachment_id: str):
    info, content = attachments.get_attachment(services(), actor(), attachment_id)
    return send_file(
        io.BytesIO(content), mimetype=info.content_type, as_attachment=True, download_name=info.filename
    )


def _afterwards(task_id: str, typed: Any, status: int, after: Any = None):
    """The page for a task that can no longer be completed: what happened, when and by whom,
    what the person typed (read-only, to copy) or sent, and where to go next."""
    after = after or afterwards.afterwards(services(), actor(), task_id)
    form = after.form or {}
    fields = build_fields(
        form.get("schema"), form.get("ui_schema"), typed or MultiDict(), {}, timezone=_timezone()
    )
    sent_fields = (
        build_fields(
            form.get("schema"),
            form.get("ui_schema"),
            flatten(after.sent, timezone=_timezone()),
            {},
            timezone=_timezone(),
        )
        if after.sent
        else []
    )
    titles = {
        afterwards.COMPLETED: _("This task is already completed"),
        afterwards.CLAIMED: _("Someone else has taken this task"),
        afterwards.INSTANCE_ENDED: _("This case is closed"),
    }
    page = render_template(
        "task_afterwards.html",
        after=after,
        title=titles.get(after.what, _("This task is no longer needed")),
        typed=readable(fields),
        sent=readable(sent_fields),
        poll=poll_sentence(after.poll_result),
    )
    return page, status


def readable(fields: list[Any]) -> list[tuple[str, str]]:
    """(label, value as shown) of the filled fields, choices by their titles."""
    shown = []
    for item in fields:
        value = item.value
        if item.kind in ("radio", "select"):
            value = dict(item.options).get(value, value)
        elif item.kind == "multi":
            value = ", ".join(dict(item.options).get(v, v) for v in value)
        elif item.kind == "checkbox":
            value = _("yes") if value else ""
        elif item.kind == "rows":
            value = "; ".join(", ".join(v for _label, v in readable(row)) for row in item.rows)
        else:
            value = show_value(value) if isinstance(value, str) else str(value)
        if value not in ("", None, []):
            shown.append((item.label, str(value)))
    return shown
