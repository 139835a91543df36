"""The procedures in the reader's language: task titles and instructions, the timeline, group
names and the diagram's labels come from each model's translation catalogue."""

from __future__ import annotations

from typing import Any

from app.services.people import users
from app.services.people.users import SYSTEM
from app.services.running import instances
from app.services.work import tasks
from tests.web.conftest import Browser
from tests.web.test_case_summary import _procedures


def test_an_appeal_in_kazakh_and_russian(browser: Browser, seeded: dict, ctx: Any) -> None:
    _procedures(ctx)
    clerk = users.actor_for(ctx, "secretariat.one")
    started = instances.start_instance(ctx, clerk, "appeal", {})
    task_id = started["tasks"][0]["id"]
    browser.login("secretariat.one")
    browser.post("/language", {"language": "kk"})
    inbox = browser.get("/inbox").get_data(as_text=True)
    assert "Өтінішті тіркеу" in inbox and "Хатшылық" in inbox  # the task and its group, in Kazakh
    assert "secretariat" not in inbox.split("<tbody>")[1].split("</tbody>")[0]
    page = browser.get(f"/tasks/{task_id}").get_data(as_text=True)
    assert "Түскен уақытын (Астана уақытымен)" in page and "Enter the time of receipt" not in page
    browser.post("/language", {"language": "ru"})
    page = browser.get(f"/tasks/{task_id}").get_data(as_text=True)
    assert "Укажите время поступления" in page
    tasks.claim_task(ctx, clerk, task_id)
    timeline = browser.get(f"/instances/{started['id']}").get_data(as_text=True).split('class="timeline"')[1]
    assert "Зарегистрировать обращение" in timeline and "Task_RegisterAppeal" not in timeline
    diagram = browser.get(f"/instances/{started['id']}/diagram.bpmn").get_data(as_text=True)
    assert 'name="Зарегистрировать обращение"' in diagram and 'name="Анонимное?"' in diagram
    browser.post("/language", {"language": "en"})
    diagram = browser.get(f"/instances/{started['id']}/diagram.bpmn").get_data(as_text=True)
    assert 'name="Register the appeal"' in diagram


def test_a_missing_translation_falls_back_to_kazakh_then_english(app: Any) -> None:
    from app.web.i18n import localized

    with app.test_request_context():
        from flask import session

        session["language"] = "ru"
        assert localized({"kk": "Қазақша", "en": "English"}) == "Қазақша"
        assert localized({"en": "English"}) == "English"
        assert localized({"ru": "Русский", "kk": "Қазақша"}) == "Русский"


def test_the_task_page_shows_the_case_by_its_labels(browser: Browser, seeded: dict, ctx: Any) -> None:
    from tests.web.test_case_summary import _procedures as deploy_procedures

    deploy_procedures(ctx)
    clerk = users.actor_for(ctx, "secretariat.one")
    started = instances.start_instance(ctx, clerk, "appeal", {})
    done = tasks.complete_task(
        ctx,
        clerk,
        started["tasks"][0]["id"],
        {
            "received_at": "2026-03-02T09:00:00+05:00",
            "registration_number": "A-7",
            "appeal_type": "proposal",
            "appeal_language": "kk",
            "anonymous": False,
            "applicant_kind": "individual",
            "applicant_name": "Aigul Sarsen",
            "applicant_id_number": "900101400123",
            "applicant_address": "Astana",
            "registration_notice": "email",
            "substance": "A proposal.",
            "reports_crime_or_threat": False,
            "within_competence": True,
        },
    )
    assert done["status"] == "running"
    [assign] = instances.get_instance(ctx, SYSTEM, started["id"])["tasks"]
    browser.login("secretariat_head.one")
    browser.post("/language", {"language": "kk"})
    page = browser.get(f"/tasks/{assign['id']}").get_data(as_text=True)
    case = page.split('<dl class="data">')[1].split("</dl>")[0]
    assert "<dt>Тіркеу нөмірі</dt><dd>A-7</dd>" in case
    assert "registration_number" not in case and "appeal_type" not in case
    assert 'id="legal-basis">Ереженің 11-тармағы, 3-функция<' in page  # the rule the step implements
