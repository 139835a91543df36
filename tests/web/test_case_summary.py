"""The case page reads like a case: labelled data from its forms, results in sentences, raw JSON
only for administrators."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from app.services.modelling import deployments
from app.services.people import users
from app.services.people.users import SYSTEM
from app.services.running import instances
from app.services.work import tasks
from tests.conftest import make_user
from tests.procedures.harness import LANE_GROUPS
from tests.web.conftest import Browser

ROOT = Path(__file__).resolve().parents[2]


def _procedures(ctx: Any) -> None:
    for group in LANE_GROUPS:
        make_user(ctx, f"{group}.one", [group])
    deployments.deploy_folders(ctx, SYSTEM, ROOT / "bpmn", ROOT / "forms")


def test_labelled_data_and_json_only_for_administrators(browser: Browser, seeded: dict, ctx: Any) -> None:
    alice = users.actor_for(ctx, "alice")
    tasks.complete_task(ctx, alice, seeded["task_id"], {"approved": True, "comment": "Within budget"})
    browser.login("alice")
    browser.post("/language", {"language": "en"})
    page = browser.get(f"/instances/{seeded['instance_id']}").get_data(as_text=True)
    summary = page.split('id="case-summary"')[1].split("</dl>")[0]
    assert "<dt>Approved</dt><dd>yes</dd>" in summary and "<dt>Comment</dt><dd>Within budget</dd>" in summary
    assert "All data (JSON)" not in page and '"comment": "Within budget"' not in page
    browser.post("/logout")
    browser.login("admin")
    browser.post("/language", {"language": "en"})
    page = browser.get(f"/instances/{seeded['instance_id']}").get_data(as_text=True)
    assert "All data (JSON)" in page and "&#34;comment&#34;: &#34;Within budget&#34;" in page


def test_a_poll_reads_as_a_sentence_with_its_numbers(browser: Browser, seeded: dict, ctx: Any) -> None:
    _procedures(ctx)
    users.set_group_members(ctx, SYSTEM, "council", ["alice", "bob", "council.one"])
    clerk = users.actor_for(ctx, "secretariat.one")
    started = instances.start_instance(ctx, clerk, "council_poll", {"decision_method": "poll"})
    tasks.complete_task(
        ctx,
        clerk,
        started["tasks"][0]["id"],
        {
            "poll_question": "Adopt?",
            "poll_deadline": "2099-12-29T18:30:00+05:00",
            "convened_by": "chairman",
            "convening_reference": "I-1",
        },
    )
    for who in ("alice", "bob"):
        actor = users.actor_for(ctx, who)
        [ballot] = [t for t in tasks.list_tasks(ctx, actor, scope="mine") if t["name"] == "Task_CastBallot"]
        tasks.complete_task(ctx, actor, ballot["id"], {"vote": "for"})
    browser.login("alice")
    browser.post("/language", {"language": "ru"})
    page = browser.get(f"/instances/{started['id']}").get_data(as_text=True)
    facts = page.split('id="case-facts"')[1].split("</ul>")[0]
    assert "принято. «За»: 2 из 3 членов (нужно 2)." in facts
    summary = page.split('id="case-summary"')[1].split("</dl>")[0]
    assert "Кем созывается" in summary and "Председатель Ассамблеи" in summary  # a choice by its title
    assert "2099" in summary  # the deadline, formatted with its four-digit year


def test_an_appeal_shows_its_time_limit_and_a_rotation_its_candidates(
    browser: Browser, seeded: dict, ctx: Any
) -> None:
    _procedures(ctx)
    clerk = users.actor_for(ctx, "secretariat.one")
    appeal = instances.start_instance(ctx, clerk, "appeal", {})
    tasks.complete_task(
        ctx,
        clerk,
        appeal["tasks"][0]["id"],
        {
            "received_at": "2026-03-02T09:00:00+05:00",
            "registration_number": "A-1",
            "appeal_type": "complaint",
            "appeal_language": "ru",
            "anonymous": False,
            "applicant_kind": "individual",
            "applicant_name": "Olga Ivanova",
            "applicant_id_number": "850101400123",
            "applicant_address": "Astana",
            "registration_notice": "post",
            "substance": "Signs.",
            "reports_crime_or_threat": False,
            "within_competence": True,
        },
    )
    rotation = instances.start_instance(
        ctx, clerk, "deputy_rotation", {"term_end": "2026-06-30", "term_months": 12, "current_deputies": []}
    )
    [nominations] = [t for t in rotation["tasks"] if t["name"] == "Task_CollectNominations"]
    tasks.complete_task(
        ctx,
        clerk,
        nominations["id"],
        {
            "candidate_1_name": "Anna Kim",
            "candidate_1_association": "Korean association",
            "candidate_2_name": "Rustam Aliyev",
            "candidate_2_association": "Azerbaijani association",
            "nomination_note": "Congresses.",
            "decision_method": "poll",
        },
    )
    browser.login("secretariat.one")
    browser.post("/language", {"language": "en"})
    page = browser.get(f"/instances/{appeal['id']}").get_data(as_text=True)
    # Received on Monday 2 March 2026 (the test clock's day): 15 working days, past the 9 March
    # holiday and Nauryz (21-25 March), end on 27 March.
    assert "Answer due by Mar 27, 2026: 15 working days left." in page
    assert "<dt>Type of appeal</dt><dd>Complaint</dd>" in page
    page = browser.get(f"/instances/{rotation['id']}").get_data(as_text=True)
    assert "Candidates: Anna Kim and Rustam Aliyev." in page
