"""The reports page (Head of the Secretariat, administrators): weeks, cycle times, open tasks by
age and overdue cases as charts, and each as a CSV download with the same figures."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_timedelta
from flask import Response, abort, render_template, request
from flask_babel import format_date, get_locale
from flask_babel import gettext as _

from ..errors import InvalidInput
from ..services.modelling import texts
from ..services.operations import reports
from . import bp, charts
from .common import actor, days_of, services
from .i18n import localized


def _period() -> tuple[reports.Period, dict[str, str]]:
    """The period the query string asks for, or the default one with a message per field."""
    today = reports.today(services())
    chosen, problems = days_of(request.args, ("from", "to"))
    try:
        return reports.period_of(today, chosen["from"], chosen["to"]), problems
    except InvalidInput as exc:
        why = exc.details[0]["message"] if exc.details else ""
        problems["from"] = {
            "reversed": _("The period must not end before it starts."),
            "too_long": _("A report covers at most %(n)s weeks.", n=reports.MAX_WEEKS),
        }.get(why) or _("Pick a day between %(first)s and %(last)s.", first=1970, last=2199)
        return reports.period_of(today), problems


def duration(seconds: float) -> str:
    """A duration in the reader's language in one unit, rounded ("2 h", "3 d"), as a report needs."""
    return format_timedelta(timedelta(seconds=seconds), threshold=1.5, format="short", locale=get_locale())


@bp.get("/reports")
def reports_page():
    period, problems = _period()
    found = reports.report(services(), actor(), period)
    process_titles = texts.process_titles(services())
    element_titles = texts.latest_element_titles(services())
    week_label = lambda monday: format_date(monday, "dd.MM")  # noqa: E731
    weekly = {}
    for row in found.weeks:
        weekly.setdefault(row.model_id, {})[row.monday] = (row.started, row.finished)
    weekly_charts = {
        model_id: charts.weekly(found.period.mondays(), counts, week_label)
        for model_id, counts in sorted(weekly.items())
    }
    cycles: dict[str, list[reports.CycleTime]] = {}
    for row in found.cycle_times:
        cycles.setdefault(row.model_id, []).append(row)
    return render_template(
        "reports.html",
        report=found,
        problems=problems,
        period_from=found.period.first_monday.isoformat(),
        period_to=found.period.last_day.isoformat(),
        weekly=weekly,
        weekly_charts=weekly_charts,
        cycles=cycles,
        longest={m: max(r.p90 for r in rows) for m, rows in cycles.items()},
        buckets=[label for label, _ in reports.AGE_BUCKETS],
        process_titles=process_titles,
        element_titles=element_titles,
        group_titles=texts.group_titles(services()),
        charts=charts,
        duration=duration,
        query={k: v for k, v in request.args.items() if k in ("from", "to") and v},
    ), (422 if problems else 200)


@bp.get("/reports/<name>.csv")
def report_csv(name: str):
    if name not in CSV_TABLES:
        abort(404)
    section, write = CSV_TABLES[name]
    period, problems = _period()
    if problems:
        abort(422)
    found = reports.section(services(), actor(), period, section)
    titles = texts.process_titles(services())
    header, rows = write(found, titles, texts.latest_element_titles(services()))
    out = io.StringIO()
    out.write("\ufeff")  # a byte-order mark, so that spreadsheets read Cyrillic as UTF-8
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows([_cell(value) for value in row] for row in rows)
    filename = f"{name}-{found.period.first_monday}-{found.period.last_day}.csv"
    return Response(
        out.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def _cell(value: Any) -> Any:
    """A text a spreadsheet would run as a formula (a business key typed as "=HYPERLINK(...)")
    is written with a leading apostrophe, which spreadsheets show as plain text."""
    if isinstance(value, str) and value.startswith(("=", "+", "-", "@", "\t", "\r")):
        return "'" + value
    return value


def _weeks(found: reports.Report, titles: dict, _elements: dict) -> tuple[list[str], Iterable[list[Any]]]:
    header = ["process", "process_name", "week_from", "started", "ended"]
    return header, (
        [
            r.model_id,
            localized(titles.get(r.model_id), r.model_id),
            r.monday.isoformat(),
            r.started,
            r.finished,
        ]
        for r in found.weeks
    )


def _cycles(found: reports.Report, titles: dict, elements: dict) -> tuple[list[str], Iterable[list[Any]]]:
    header = ["process", "process_name", "task", "task_name", "count", "median_hours", "p90_hours"]
    return header, (
        [
            r.model_id,
            localized(titles.get(r.model_id), r.model_id),
            r.element_id or "",
            localized(elements.get(r.model_id, {}).get(r.element_id or ""), r.element_id or ""),
            r.count,
            round(r.median / 3600, 2),
            round(r.p90 / 3600, 2),
        ]
        for r in found.cycle_times
    )


def _open(found: reports.Report, titles: dict, _elements: dict) -> tuple[list[str], Iterable[list[Any]]]:
    buckets = [label for label, _ in reports.AGE_BUCKETS]
    header = ["process", "process_name", *buckets, "total"]
    return header, (
        [r.model_id, localized(titles.get(r.model_id), r.model_id), *(r.by_age[b] for b in buckets), r.total]
        for r in found.open_tasks
    )


def _overdue(found: reports.Report, titles: dict, _elements: dict) -> tuple[list[str], Iterable[list[Any]]]:
    header = ["instance", "business_key", "process", "process_name", "task", "task_name", "group",
              "assignee", "due_at", "overdue_days"]  # fmt: skip
    return header, (
        [
            c.instance_id,
            c.business_key or "",
            c.model_id,
            localized(titles.get(c.model_id), c.model_id),
            c.element_id,
            localized(c.titles, c.element_id),
            c.group_name or "",
            c.assignee or "",
            c.due_at.astimezone(ZoneInfo(services().settings.timezone)).isoformat(),
            round((found.now - c.due_at).total_seconds() / 86400, 1),
        ]
        for c in found.overdue
    )


# The download's name: the report's section and how it is written.
CSV_TABLES = {
    "weeks": ("weeks", _weeks),
    "cycle-times": ("cycle_times", _cycles),
    "open-tasks": ("open_tasks", _open),
    "overdue": ("overdue", _overdue),
}
