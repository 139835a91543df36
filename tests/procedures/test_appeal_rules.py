"""Appeals (APPC): time limits from the day of receipt, extensions within the law, the answer's
language, forwarding with the applicant told, anonymous appeals without applicant details."""

import pytest

from app.errors import InvalidInput
from tests.procedures.harness import Harness
from tests.procedures.test_appeal import ANONYMOUS, SIGNED, register


def refused(h: Harness, task: str, data: dict) -> dict:
    with pytest.raises(InvalidInput) as invalid:
        h.complete(task, data)
    assert h.ready(task), "the task must stay open"
    [error] = invalid.value.details
    return error


@pytest.mark.parametrize(
    ("received_at", "registered", "deadline", "forward_due", "cap"),
    [
        # Saturday 7 March 2026: registered on Tuesday 10 March (9 March is a holiday), but the
        # 15 working days, the 3 to forward and the two months count from 7 March.
        ("2026-03-07T11:00:00+05:00", "2026-03-10", "2026-04-02T18:30:00+05:00", "2026-03-12", "2026-05-07"),
        # Tuesday 10 March after hours: registered on 11 March, time limits from 10 March.
        ("2026-03-10T19:00:00+05:00", "2026-03-11", "2026-04-03T18:30:00+05:00", "2026-03-13", "2026-05-10"),
        # The same moment written in UTC.
        ("2026-03-10T14:00:00Z", "2026-03-11", "2026-04-03T18:30:00+05:00", "2026-03-13", "2026-05-10"),
    ],
)
def test_time_limits_count_from_the_day_of_receipt(
    received_at: str, registered: str, deadline: str, forward_due: str, cap: str
) -> None:
    with register(dict(SIGNED, received_at=received_at, within_competence=False), now=received_at) as h:
        data = h.ready("Task_ForwardToCompetentBody")[0].data
        assert data["registration_date"] == registered
        assert (data["appeal_deadline"], data["appeal_extension_limit"]) == (deadline, cap)
        assert data["appeal_forward_due"] == forward_due


def extension_requested(now: str = "2026-03-02T10:00:00+05:00") -> Harness:
    h = register(SIGNED, now=now)
    h.complete("Task_AssignExecutor", {"executor": "a.serikova"})
    h.complete(
        "Task_ConsiderAppeal", {"next_step": "request_extension", "extension_reason": "Expert opinion"}
    )
    return h


GRANT = {
    "extension_decision": "grant",
    "extension_ground": "establish_facts",
    "extension_reasons": "Inspection",
}


def test_an_extension_must_be_later_than_the_current_deadline() -> None:
    # Received 2 March: the deadline is 27 March, 18:30 (15 working days past 9 March and Nauryz).
    with extension_requested() as h:
        deadline = h.ready("Task_DecideExtension")[0].data["appeal_deadline"]
        for day in ("2026-03-20", deadline[:10]):
            error = refused(h, "Task_DecideExtension", dict(GRANT, extension_until=day))
            assert error["field"] == "$.extension_until" and deadline in error["message"]
        h.complete("Task_DecideExtension", dict(GRANT, extension_until="2026-04-10"))
        assert h.ready("Task_NotifyExtension")[0].data["appeal_deadline"] == "2026-04-10T18:30:00+05:00"


def test_an_extension_beyond_two_months_from_receipt_is_refused_with_the_cap() -> None:
    with extension_requested() as h:
        error = refused(h, "Task_DecideExtension", dict(GRANT, extension_until="2026-05-03"))
        assert error["field"] == "$.extension_until"
        for text in (error["message"], *error["messages"].values()):
            assert "2026-05-02" in text


def test_no_extension_once_the_deadline_has_passed() -> None:
    with extension_requested() as h:
        deadline = h.ready("Task_DecideExtension")[0].data["appeal_deadline"]
        h.advance(to=deadline)
        h.advance(minutes=1)
        for name in ("Task_EscalateOverdue",):
            assert not h.ready(name)  # the sub-process was left: no escalation meanwhile
        error = refused(h, "Task_DecideExtension", dict(GRANT, extension_until="2026-04-10"))
        assert error["field"] == "$.extension_decision"
        # Refusing the extension is still possible.
        h.complete("Task_DecideExtension", {"extension_decision": "refuse", "extension_reasons": "Too late"})


def test_an_extension_to_a_day_off_moves_to_the_next_working_day() -> None:
    with extension_requested() as h:
        h.complete("Task_DecideExtension", dict(GRANT, extension_until="2026-04-11"))  # a Saturday
        assert h.ready("Task_NotifyExtension")[0].data["appeal_deadline"] == "2026-04-13T18:30:00+05:00"


@pytest.mark.parametrize(
    ("appeal_language", "answer_language", "accepted"),
    [
        ("ru", "other", False),
        ("kk", "ru", False),
        ("ru", "ru", True),
        ("ru", "kk", True),
        ("other", "other", True),
    ],
)
def test_the_answer_is_in_the_appeals_language_or_the_state_language(
    appeal_language: str, answer_language: str, accepted: bool
) -> None:
    with register(dict(SIGNED, appeal_language=appeal_language)) as h:
        h.complete("Task_AssignExecutor", {"executor": "a.serikova"})
        h.complete("Task_ConsiderAppeal", {"next_step": "prepare_answer"})
        answer = {"answer_text": "Answer.", "answer_language": answer_language}
        if accepted:
            h.complete("Task_PrepareAnswer", answer)
            assert h.ready_names() == ["Task_ApproveAnswer"]
        else:
            assert refused(h, "Task_PrepareAnswer", answer)["field"] == "$.answer_language"


def test_forwarding_and_telling_the_applicant_happen_together() -> None:
    received = "2026-03-02T10:00:00+05:00"
    with register(dict(SIGNED, within_competence=False), now=received) as h:
        h.advance(to="2026-03-04T12:00:00+05:00")
        forward = {
            "competent_body": "Akimat of Astana",
            "forwarded_at": "2026-03-03T09:30:00+05:00",
            "forward_reference": "F-1",
            "applicant_notified_at": "2026-03-04T09:30:00+05:00",
        }
        assert refused(h, "Task_ForwardToCompetentBody", forward)["field"] == "$.applicant_notified_at"
        h.complete(
            "Task_ForwardToCompetentBody", dict(forward, applicant_notified_at="2026-03-03T16:00:00+05:00")
        )
        assert h.data["appeal_result"]["outcome"] == "forwarded"


@pytest.mark.parametrize(
    "detail", [{"applicant_name": "Olga Ivanova"}, {"applicant_id_number": "850101400123"}]
)
def test_an_anonymous_appeal_with_applicant_details_is_refused(detail: dict) -> None:
    with Harness("appeal", now="2026-03-02T10:00:00+05:00") as h:
        assert refused(h, "Task_RegisterAppeal", {**ANONYMOUS, **detail})["field"] == "$.anonymous"
        h.complete("Task_RegisterAppeal", dict(ANONYMOUS, applicant_name="   "))  # blank is no detail


def test_a_blank_name_is_no_name() -> None:
    with Harness("appeal", now="2026-03-02T10:00:00+05:00") as h:
        assert (
            refused(h, "Task_RegisterAppeal", dict(SIGNED, applicant_name="   "))["field"]
            == "$.applicant_name"
        )


def test_the_applicant_is_given_the_registration_number() -> None:
    with Harness("appeal", now="2026-03-02T10:00:00+05:00") as h:
        signed = {k: v for k, v in SIGNED.items() if k != "registration_notice"}
        assert refused(h, "Task_RegisterAppeal", signed)["field"] == "$.registration_notice"


def test_a_deputy_head_may_decide_the_extension_and_nobody_else_outside_the_heads() -> None:
    from app.errors import Forbidden
    from app.services.work import tasks

    with extension_requested() as h:
        h.add_members("secretariat_deputy_head", ["deputy.head"])
        h.add_members("secretariat", ["clerk"])
        deputy, clerk = h.actor("deputy.head"), h.actor("clerk")
        [task] = h.ready("Task_DecideExtension")
        assert task.group == "secretariat_head"
        available = tasks.list_tasks(h.ctx, deputy, scope="available")
        assert [t["name"] for t in available] == ["Task_DecideExtension"]
        clerk_sees = [t["name"] for t in tasks.list_tasks(h.ctx, clerk, scope="available")]
        assert "Task_DecideExtension" not in clerk_sees
        with pytest.raises(Forbidden):
            tasks.complete_task(h.ctx, clerk, task.id, dict(GRANT, extension_until="2026-04-10"))
        with pytest.raises(Forbidden):
            tasks.claim_task(h.ctx, clerk, task.id)
        assert tasks.get_task(h.ctx, deputy, task.id)["name"] == "Task_DecideExtension"
        tasks.claim_task(h.ctx, deputy, task.id)
        tasks.complete_task(h.ctx, deputy, task.id, dict(GRANT, extension_until="2026-04-10"))
        assert h.ready_names() == ["Task_NotifyExtension"]
        [decided] = [e for e in h.history() if e["action"] == "task.completed"][-1:]
        assert decided["actor"] == "deputy.head"
