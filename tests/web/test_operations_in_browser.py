"""Operating instances in Chromium: the instances page, an incident retried from its page, and a
migration previewed and carried out."""

from __future__ import annotations

from typing import Any

from app.services.modelling import deployments
from app.services.people import users
from app.services.people.users import SYSTEM
from app.services.running import instances
from app.services.work import tasks
from tests.services.test_migration import approval_files
from tests.web.live import LiveServer
from tests.web.test_browser import shot, sign_in, switch_language


def test_the_instances_page_filters(page: Any, live: LiveServer) -> None:
    sign_in(page, live, "admin", "/instances")
    switch_language(page, "en")
    assert page.locator("#instances tbody tr").count() >= 2
    page.select_option("#i-status", "running")
    page.click("form.filters button[type=submit]")
    page.wait_for_url(lambda url: "status=running" in url)
    statuses = page.locator("#instances tbody .status").all_inner_texts()
    assert statuses and set(statuses) == {"running"}
    shot(page, "45-instances")


def test_an_incident_retried_from_its_page(page: Any, live: LiveServer) -> None:
    view = instances.start_instance(live.ctx, SYSTEM, "approval", {"subject": "Broken", "divisor": 0})
    alice = users.actor_for(live.ctx, "alice")
    tasks.complete_task(live.ctx, alice, view["tasks"][0]["id"], {"approved": True, "comment": "ok"})
    sign_in(page, live, "admin")
    switch_language(page, "en")
    page.goto(live.url + "/incidents")
    page.check(f"#pick-{view['id']}")
    page.click("button[name=action][value=retry]")
    page.wait_for_selector(".flash-error")
    assert f"Instance #{view['id']}: the step failed again" in page.inner_text("main")
    shot(page, "46-incident-retried")


def test_a_migration_previewed_and_done(page: Any, live: LiveServer) -> None:
    target = live.ids["instance_id"]  # the seeded approval, on version 1, waiting at its review
    assert deployments.deploy(live.ctx, SYSTEM, approval_files("added_after")).version == 2
    sign_in(page, live, "admin", f"/instances/{target}")
    switch_language(page, "en")
    page.fill("#move-to", "2")
    page.click("#move-version button")
    page.wait_for_selector("#migration-verdict")
    assert "It can move" in page.inner_text("#migration-verdict")
    shot(page, "47-migration-preview")
    page.click("form[action$='/migrate'] button")
    page.wait_for_selector(".flash-success")
    assert "version 1 → 2" in page.inner_text(".timeline")


def test_the_reports_page_draws_its_charts(page: Any, live: LiveServer) -> None:
    for _ in range(2):  # two approvals completed today, so that a week and a cycle time have figures
        view = instances.start_instance(live.ctx, SYSTEM, "approval", {"subject": "Report", "divisor": 2})
        alice = users.actor_for(live.ctx, "alice")
        tasks.complete_task(live.ctx, alice, view["tasks"][0]["id"], {"approved": True, "comment": "ok"})
    sign_in(page, live, "admin")
    switch_language(page, "kk")
    page.goto(live.url + "/reports")
    chart = page.locator("#report-weeks figure[data-process='approval'] svg")
    assert chart.is_visible() and chart.locator("rect.ended").count() == 12  # twelve weeks by default
    assert page.locator("#report-cycle-times table[data-process='approval'] tr.whole").is_visible()
    assert page.locator("#report-overdue tbody tr").count() >= 1  # the seeded late approval
    assert "Есептер" in page.inner_text("h1")
    shot(page, "48-reports")
    with page.expect_download() as download:
        page.click("#report-overdue a[download]")
    assert download.value.suggested_filename.startswith("overdue-")
