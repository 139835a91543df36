"""The reports page and its CSV downloads, through the Flask test client: the Head of the
Secretariat reads them, a clerk is refused and sees no link, a reversed period is refused at its
field."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from typing import Any

from app.services.people.users import SYSTEM
from app.services.running import instances
from app.services.work import tasks
from tests.conftest import START, make_user


def rows_of(response: Any) -> list[list[str]]:
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")  # spreadsheets then read the Cyrillic names right
    return list(csv.reader(io.StringIO(text[1:])))


def _world(ctx: Any, clock: Any, seeded: dict) -> dict:
    """The seeded approval completed after 2 hours; a second one still open, overdue by now."""
    second = instances.start_instance(
        ctx,
        SYSTEM,
        "approval",
        {"subject": "Late", "divisor": 4, "review_due": (START + timedelta(days=1)).isoformat()},
    )
    clock.set(START + timedelta(hours=2))
    alice = make_user(ctx, "reader", ["reviewers"])
    tasks.complete_task(ctx, alice, seeded["task_id"], {"approved": True, "comment": "ok", "divisor": 4})
    clock.set(START + timedelta(days=3))
    return {"open": second["id"]}


def test_the_head_reads_the_reports_and_downloads_each_csv(
    browser: Any, seeded: dict, ctx: Any, clock: Any
) -> None:
    world = _world(ctx, clock, seeded)
    make_user(ctx, "head", ["secretariat_head", "secretariat"])
    browser.login("head")
    assert 'href="/reports"' in browser.get("/inbox").get_data(as_text=True)
    page = browser.get("/reports?from=2026-03-02&to=2026-03-08")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert 'data-process="approval"' in html and html.count('class="started"') == 1  # one week, one bar
    assert f'href="/instances/{world["open"]}"' in html  # the overdue case

    weeks = rows_of(browser.get("/reports/weeks.csv?from=2026-03-02&to=2026-03-08"))
    assert weeks[0] == ["process", "process_name", "week_from", "started", "ended"]
    assert [row[0:1] + row[2:] for row in weeks[1:]] == [["approval", "2026-03-02", "2", "1"]]
    cycles = {row[2]: row for row in rows_of(browser.get("/reports/cycle-times.csv?from=2026-03-02"))[1:]}
    assert cycles[""][4:] == ["1", "2.0", "2.0"] and cycles["Task_Review"][4:] == ["1", "2.0", "2.0"]
    [ages] = rows_of(browser.get("/reports/open-tasks.csv"))[1:]
    assert ages[2:] == ["0", "0", "1", "0", "0", "1"]  # open three days: the 3-7 days bucket
    [overdue] = rows_of(browser.get("/reports/overdue.csv"))[1:]
    assert (overdue[0], overdue[4], overdue[6], overdue[-1]) == (
        str(world["open"]),
        "Task_Review",
        "reviewers",
        "2.0",
    )
    download = browser.get("/reports/overdue.csv")
    assert download.mimetype == "text/csv" and "attachment" in download.headers["Content-Disposition"]
    assert browser.get("/reports/nothing.csv").status_code == 404


def test_a_reversed_period_is_refused_at_its_field(browser: Any, seeded: dict) -> None:
    browser.login("admin")
    refused = browser.get("/reports?from=2026-03-10&to=2026-03-01")
    assert refused.status_code == 422 and 'id="report-from-error"' in refused.get_data(as_text=True)
    assert browser.get("/reports/weeks.csv?from=not-a-day").status_code == 422


def test_others_are_refused_and_see_no_link(browser: Any, seeded: dict) -> None:
    browser.login("carol")  # secretariat, not its head
    assert 'href="/reports"' not in browser.get("/inbox").get_data(as_text=True)
    assert browser.get("/reports").status_code == 403
    assert browser.get("/reports/weeks.csv").status_code == 403


def test_a_business_key_is_never_a_formula_in_the_csv(
    browser: Any, seeded: dict, ctx: Any, clock: Any
) -> None:
    from app.web.reports import _cell

    assert _cell('=HYPERLINK("http://x","y")') == '\'=HYPERLINK("http://x","y")'
    assert _cell("-1+2") == "'-1+2" and _cell("REG-001") == "REG-001" and _cell(-3) == -3
    browser.login("admin")
    assert browser.get("/reports?from=0001-01-01&to=0001-01-07").status_code == 422  # not a 500
