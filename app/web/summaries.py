"""A case's data for people: labelled by its forms, values as they read, and the results of the
procedures (a Council decision, an appeal's time limit, a rotation) in a sentence."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from flask_babel import gettext as _

from ..engine.calendar import WorkingCalendar
from .formgen import localized_list
from .i18n import date_filter, localized, show_value


def poll_sentence(result: dict[str, Any] | None) -> str:
    """A Council decision in one sentence, with its numbers."""
    if not result:
        return ""
    total = int(result.get("total_members") or 0)
    votes_for = int(result.get("votes_for") or 0)
    decided = show_value(result.get("closed_at") or "")
    if result.get("outcome") == "not_held":
        return _("The Council took no decision (%(at)s).", at=decided)
    adopted = result.get("outcome") == "adopted"
    if result.get("method") == "meeting":
        present = int(result.get("members_present") or 0)
        if adopted:
            return _(
                "Meeting of the Council: adopted. For: %(votes)s of %(present)s present.",
                votes=votes_for,
                present=present,
            )
        return _(
            "Meeting of the Council: not adopted. For: %(votes)s of %(present)s present.",
            votes=votes_for,
            present=present,
        )
    values = {"at": decided, "votes": votes_for, "total": total, "needed": -(-2 * total // 3)}
    if adopted:
        return _(
            "Decided at %(at)s: adopted. For: %(votes)s of %(total)s members (%(needed)s needed).", **values
        )
    return _(
        "Decided at %(at)s: not adopted. For: %(votes)s of %(total)s members (%(needed)s needed).", **values
    )


def _fields(
    forms: list[tuple[dict[str, Any], dict[str, Any]]],
) -> dict[str, tuple[dict[str, Any], dict[str, Any]]]:
    """Each top-level field of the forms by name (the first form that has it), in form order."""
    found: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {}
    for schema, ui in forms:
        for name, spec in (schema.get("properties") or {}).items():
            if isinstance(spec, dict):
                found.setdefault(name, (spec, (ui or {}).get(name) or {}))
    return found


def _shown(value: Any, spec: dict[str, Any], ui: dict[str, Any]) -> str:
    if isinstance(value, list):
        items = spec.get("items") if isinstance(spec.get("items"), dict) else {}
        return ", ".join(_shown(v, items, ui) for v in value if not isinstance(v, dict | list))
    options = spec.get("enum") or (spec.get("items") or {}).get("enum") or []
    names = localized_list(ui.get("ui:enumNames")) if ui.get("ui:enumNames") else []
    if value in options and options.index(value) < len(names):
        return names[options.index(value)]
    return show_value(value)


def case_summary(
    data: dict[str, Any], forms: list[tuple[dict[str, Any], dict[str, Any]]]
) -> list[tuple[str, str]]:
    """(label, value) of the data the forms name, in the forms' order; the rest stays out."""
    rows = []
    for name, (spec, ui) in _fields(forms).items():
        value = data.get(name)
        if value in (None, "", []) or isinstance(value, dict):
            continue
        text = _shown(value, spec, ui)
        if text:
            rows.append((localized(ui.get("ui:label"), spec.get("title") or name), text))
    return rows


def case_facts(data: dict[str, Any], status: str, calendar: WorkingCalendar, today: date) -> list[str]:
    """The results and time limits of the shipped procedures, each in a sentence."""
    facts = []
    poll = data.get("poll_result")
    if isinstance(poll, dict) and poll.get("outcome"):
        facts.append(poll_sentence(poll))
    deadline = data.get("appeal_deadline")
    if isinstance(deadline, str) and status == "running" and not data.get("appeal_result"):
        try:
            due = datetime.fromisoformat(deadline).date()
        except ValueError:
            due = None
        if due is not None:
            left = calendar.working_days_between(today, due)
            when = date_filter(deadline)
            if left >= 0:
                facts.append(_("Answer due by %(when)s: %(left)s working days left.", when=when, left=left))
            else:
                facts.append(_("The time limit passed on %(when)s.", when=when))
    appointment = data.get("appointment")
    if isinstance(appointment, dict) and appointment.get("deputies"):
        names = _(" and ").join(f"{d.get('name')} ({d.get('association')})" for d in appointment["deputies"])
        facts.append(
            _(
                "Appointed: %(names)s; term from %(start)s to %(end)s.",
                names=names,
                start=date_filter(appointment.get("term_start")),
                end=date_filter(appointment.get("term_end")),
            )
        )
    elif data.get("candidate_1_name") and data.get("candidate_2_name"):
        facts.append(
            _(
                "Candidates: %(first)s and %(second)s.",
                first=data["candidate_1_name"],
                second=data["candidate_2_name"],
            )
        )
    return facts
