"""Every page a person works on, in Chromium, in each language: the texts come from the models'
translation catalogues (kk, ru) and diagrams (en), and no element id, group id or username shows
where a name belongs."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from babel.support import Translations
from lxml import etree

from app.services.people import users
from app.services.people.users import SYSTEM
from app.services.running import instances
from app.services.work import tasks
from tests.web.live import LiveServer
from tests.web.test_browser import shot, sign_in, switch_language

ROOT = Path(__file__).resolve().parents[2]
LANGUAGES = ("kk", "ru", "en")
# What an id looks like in these diagrams (Task_RegisterAppeal, Flow_ToPrepare) and the groups' ids.
ELEMENT_ID = re.compile(r"\b(Task|Flow|Lane|Timer|Gateway|Start|End|Script|DataRef|Participant)_[A-Za-z]")
GROUP_ID = re.compile(r"\b(secretariat|secretariat_head|council|chairman)\b")


def _text(model: str, element_id: str, key: str, language: str) -> str:
    """An element's text in a language: the catalogue's kk or ru, the diagram's English."""
    if language != "en":
        catalogue = json.loads((ROOT / "bpmn" / f"{model}.translations.json").read_text())
        section = catalogue["process"] if element_id == "process" else catalogue["elements"][element_id]
        return section[key][language]
    root = etree.parse(str(ROOT / "bpmn" / f"{model}.bpmn"))
    [element] = root.xpath(f"//*[@id='{model if element_id == 'process' else element_id}']")
    if key == "name":
        return element.get("name")
    if key == "description":
        key = "description_en"
    [text] = element.xpath(
        "./*[local-name()='extensionElements']/*/*[local-name()='property'][@name=$key]/@value", key=key
    )
    return text


def _group(model: str, group: str, language: str) -> str:
    catalogue = json.loads((ROOT / "bpmn" / f"{model}.translations.json").read_text())
    return catalogue["groups"][group][language]


def _no_ids(text: str) -> None:
    assert not ELEMENT_ID.search(text), ELEMENT_ID.search(text)
    assert not GROUP_ID.search(text), GROUP_ID.search(text)


@pytest.fixture(scope="module")
def clerk(live: LiveServer) -> str:
    """A clerk with a name people read, and an appeal she registered in the timeline."""
    users.create_user(
        live.ctx, SYSTEM, username="aliya", password="password123", display_name="Aliya Nurlanovna",
        groups=["secretariat"],
    )  # fmt: skip
    started = instances.start_instance(live.ctx, users.actor_for(live.ctx, "aliya"), "appeal", {})
    live.ids["aliya_appeal"] = started["id"]
    users.set_group_members(live.ctx, SYSTEM, "council", ["alice", "bob", "dave"])
    return "aliya"


def _message(code: str, msgid: str, **values: str) -> re.Pattern[str]:
    """A message of the pages as the reader sees it, its %(at)s as any text."""
    catalogue = Translations.load(str(ROOT / "app/web/translations"), [code])
    text = msgid if code == "en" else catalogue.gettext(msgid)

    def piece(part: str) -> str:
        if not part.startswith("%("):
            return re.escape(part)
        return re.escape(values[part[2:-2]]) if part[2:-2] in values else ".+?"

    return re.compile("".join(piece(p) for p in re.split(r"(%\(\w+\)s)", text)))


def _open_poll(live: LiveServer) -> tuple[int, dict[str, str]]:
    """A poll of alice, bob and dave, convened by the Chairman: its instance and ballots."""
    carol = users.actor_for(live.ctx, "carol")
    started = instances.start_instance(live.ctx, carol, "council_poll", {})
    poll = {"poll_question": "Adopt?", "poll_deadline": "2099-12-29T18:30:00+05:00"}
    poll |= {"convened_by": "chairman", "convening_reference": "I-1"}
    tasks.complete_task(live.ctx, carol, started["tasks"][0]["id"], poll)
    ballots = {
        who: next(
            t["id"]
            for scope in ("mine", "available")
            for t in tasks.list_tasks(live.ctx, users.actor_for(live.ctx, who), scope=scope)
            if t["name"] == "Task_CastBallot" and t["instance_id"] == started["id"]
        )
        for who in ("alice", "bob", "dave")
    }
    return started["id"], ballots


@pytest.mark.parametrize("code", LANGUAGES)
def test_the_inbox_and_the_task_page(page: Any, live: LiveServer, clerk: str, code: str) -> None:
    sign_in(page, live, clerk)
    switch_language(page, code)
    main = page.inner_text("main")
    assert _text("appeal", "Task_RegisterAppeal", "name", code) in main
    assert _group("appeal", "secretariat", code) in main  # the column of a task nobody took
    _no_ids(main)
    page.goto(live.url + f"/tasks/{live.ids['appeal_register_task']}")
    assert page.inner_text("h1").strip() == _text("appeal", "Task_RegisterAppeal", "name", code)
    assert _text("appeal", "Task_RegisterAppeal", "legal_basis", code) in page.inner_text("main")
    _no_ids(page.inner_text("main"))
    shot(page, f"40-task-{code}")


@pytest.mark.parametrize("code", LANGUAGES)
def test_the_case_its_timeline_and_its_diagram(page: Any, live: LiveServer, clerk: str, code: str) -> None:
    sign_in(page, live, "admin", f"/instances/{live.ids['aliya_appeal']}")
    switch_language(page, code)
    page.wait_for_selector("#diagram.ready")
    assert _text("appeal", "process", "name", code) in page.inner_text("h1")
    assert "Aliya Nurlanovna" in page.inner_text("dl.meta")  # started by, by her name
    timeline = page.inner_text(".timeline")
    assert "Aliya Nurlanovna" in timeline and "aliya" not in timeline.replace("Aliya", "")
    labels = page.eval_on_selector_all("#diagram text", "texts => texts.map(t => t.textContent)")
    drawn = " ".join(" ".join(labels).split())  # bpmn-js breaks long labels into lines
    for element_id in ("Task_RegisterAppeal", "Flow_Anonymous", "Flow_NotAnonymous"):
        assert " ".join(_text("appeal", element_id, "name", code).split()) in drawn, element_id
    assert _group("appeal", "secretariat", code) in drawn  # a lane, by its group's name
    assert _text("appeal", "process", "name", code) in drawn  # the pool
    _no_ids(drawn)
    _no_ids(page.inner_text("main"))
    shot(page, f"41-case-{code}")


@pytest.mark.parametrize("code", LANGUAGES)
def test_the_timers_and_start_pages(page: Any, live: LiveServer, clerk: str, code: str) -> None:
    if not live.ids.get("poll_instance_id"):
        pytest.skip(f"bpmn/council_poll.bpmn did not deploy: {live.ids.get('ballot_error')}")
    sign_in(page, live, "admin")
    switch_language(page, code)
    page.goto(live.url + "/timers")
    table = page.inner_text("main")
    assert _text("council_poll", "Timer_BallotDeadline", "name", code) in table
    assert _text("council_poll", "process", "name", code) in table
    _no_ids(table)
    shot(page, f"42-timers-{code}")
    page.goto(live.url + "/start")
    start = page.inner_text("main")
    assert _text("appeal", "process", "name", code) in start
    assert _text("appeal", "process", "description", code) in start
    _no_ids(start)


@pytest.mark.parametrize("code", LANGUAGES)
def test_a_ballot_sent_after_the_poll_was_decided(page: Any, live: LiveServer, clerk: str, code: str) -> None:
    if not live.ids.get("poll_instance_id"):
        pytest.skip(f"bpmn/council_poll.bpmn did not deploy: {live.ids.get('ballot_error')}")
    instance_id, ballots = _open_poll(live)
    sign_in(page, live, "dave", f"/tasks/{ballots['dave']}")
    switch_language(page, code)
    page.check("input[name=vote][value=against]")
    page.fill("#comment", f"Not yet ({code})")
    for who in ("alice", "bob"):  # two of three: adopted, and the poll closes early
        tasks.complete_task(live.ctx, users.actor_for(live.ctx, who), ballots[who], {"vote": "for"})
    page.click(f"form[action$='/tasks/{ballots['dave']}'] button[type=submit]")
    page.wait_for_selector("#what-happened")
    decided = "Decided at %(at)s: adopted. For: %(votes)s of %(total)s members (%(needed)s needed)."
    outcome = _message(code, decided, votes="2", total="3", needed="2")
    assert outcome.search(page.inner_text("#poll-outcome")), page.inner_text("#poll-outcome")
    assert _message(code, "What you typed (not sent)").search(page.inner_text("main"))
    assert f"Not yet ({code})" in page.input_value("#typed-copy")
    shot(page, f"43-ballot-too-late-{code}")
    page.goto(live.url + f"/instances/{instance_id}")
    assert outcome.search(page.inner_text("#case-facts"))
    _no_ids(page.inner_text("#case-summary"))


def _current_tab(page: Any) -> tuple[str, int, int]:
    """The chosen tab's scope, the count it shows, and the rows listed under it."""
    tab = page.locator("nav.tabs a[aria-current=page]")
    scope = tab.get_attribute("href").split("scope=")[1]
    count = int(tab.locator(".count").inner_text().strip("()"))
    return scope, count, page.locator("table tbody tr").count()


def test_the_inbox_opens_where_the_work_is(page: Any, live: LiveServer, clerk: str) -> None:
    users.create_user(live.ctx, SYSTEM, username="nadia", password="password123", groups=["secretariat"])
    sign_in(page, live, "nadia")
    scope, count, rows = _current_tab(page)
    assert (scope, count) == ("available", rows) and rows >= 2  # nothing of hers yet: her group's work
    links = page.locator("table tbody tr a[href^='/instances/']").all_inner_texts()
    instance_ids = [int(text.strip("#")) for text in links]
    assert instance_ids == sorted(instance_ids, reverse=True)  # no deadlines: the newest first
    page.locator("table tbody tr").first.locator("form[action$='/claim'] button").click()
    page.goto(live.url + "/inbox")
    assert _current_tab(page) == ("mine", 1, 1)
    page.click("nav.tabs a[href$='scope=available']")
    page.goto(live.url + "/inbox")
    assert _current_tab(page)[0] == "available"  # chosen last, and it has work
    shot(page, "44-inbox-remembers-the-tab")
    page.goto(live.url + "/inbox?scope=mine")
    page.locator("table tbody tr").first.locator("form[action$='/unclaim'] button").click()
