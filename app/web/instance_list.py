"""The instances page: find any instance the user may read, by the same filters as the API."""

from __future__ import annotations

from typing import Any

from flask import render_template, request
from flask_babel import gettext as _

from ..db.models import STATUSES
from ..errors import InvalidInput
from ..services.modelling import texts
from ..services.running import instance_search
from . import bp
from .common import actor, days_of, services

PAGE = 50
TEXT_FILTERS = ("status", "model_id", "started_by", "business_key", "field", "value")
DATE_FILTERS = ("started_from", "started_to", "ended_from", "ended_to")


def _filters(args: Any) -> tuple[dict[str, Any], dict[str, str]]:
    """The filters of the query string, and a message for each one that cannot be read."""
    filters: dict[str, Any] = {name: args.get(name, "").strip() or None for name in TEXT_FILTERS}
    days, problems = days_of(args, DATE_FILTERS)
    filters.update(days)
    raw_version = args.get("version", "").strip()
    filters["version"] = int(raw_version) if raw_version.isdigit() and len(raw_version) < 10 else None
    if raw_version and filters["version"] is None:
        problems["version"] = _("A version is a whole number.")
    if filters["value"] and not filters["field"]:
        problems["field"] = _("Name the variable to look for.")
    filters["sort"] = args.get("sort") if args.get("sort") in instance_search.SORTS else "newest"
    return filters, problems


@bp.get("/instances")
def instances_list():
    filters, problems = _filters(request.args)
    offset = int(request.args["offset"]) if request.args.get("offset", "").isdigit() else 0
    offset = min(offset, 10**9)
    rows: list[dict[str, Any]] = []
    if not problems:
        if filters["field"] and not filters["value"]:
            filters["field"] = None
        try:
            page = {"limit": PAGE + 1, "offset": offset}
            rows = instance_search.list_instances(services(), actor(), **page, **filters)
        except InvalidInput as exc:
            problems = {d.get("field", ""): d.get("message", "") for d in exc.details}
    query = {k: v for k, v in request.args.items() if k != "offset" and v}
    return render_template(
        "instances.html",
        rows=rows[:PAGE],
        more=len(rows) > PAGE,
        offset=offset,
        page=PAGE,
        query=query,
        filters=filters,
        errors=problems,
        statuses=STATUSES,
        process_titles=texts.process_titles(services()),
    ), (422 if problems else 200)
