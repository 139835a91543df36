"""Appeals to the Secretariat (Regulations para 11, function 3) under the APPC."""

import pytest

from app.errors import InvalidInput
from tests.procedures.harness import Harness

SIGNED = {
    "received_at": "2026-03-02T10:00:00+05:00",
    "registration_number": "ZT-2026-0142",
    "appeal_type": "complaint",
    "appeal_language": "ru",
    "anonymous": False,
    "applicant_kind": "individual",
    "applicant_name": "Olga Ivanova",
    "applicant_id_number": "850101400123",
    "applicant_address": "Astana, Mangilik El 8",
    "registration_notice": "post",
    "substance": "Language of signs in the city.",
    "reports_crime_or_threat": False,
    "within_competence": True,
}
ANONYMOUS = {
    "received_at": "2026-03-02T10:00:00+05:00",
    "registration_number": "ZT-2026-0143",
    "appeal_type": "report",
    "appeal_language": "kk",
    "anonymous": True,
    "substance": "...",
    "reports_crime_or_threat": False,
    "within_competence": True,
}


def register(data: dict, now: str | None = None) -> Harness:
    h = Harness("appeal", now=now or data["received_at"])
    h.complete("Task_RegisterAppeal", data, lane="secretariat")
    return h


def consider_and_answer(h: Harness, sent_at: str) -> None:
    h.complete("Task_ConsiderAppeal", {"next_step": "prepare_answer"}, lane="secretariat")
    h.complete("Task_PrepareAnswer", {"answer_text": "Answer.", "answer_language": "ru"}, lane="secretariat")
    h.complete("Task_ApproveAnswer", {"answer_decision": "approve"}, lane="secretariat_head")
    h.complete(
        "Task_SendAnswer",
        {"answer_sent_at": sent_at, "outgoing_number": "ZT-0142/1", "delivery_channel": "post"},
        lane="secretariat",
    )


def test_anonymous_appeal_is_not_considered() -> None:
    with register(ANONYMOUS) as h:
        assert h.completed
        assert h.data["appeal_result"]["outcome"] == "not_considered"


def test_anonymous_report_of_a_threat_is_forwarded_at_once() -> None:
    with register(dict(ANONYMOUS, reports_crime_or_threat=True)) as h:
        assert h.ready_names() == ["Task_ForwardAtOnce"]
        h.complete(
            "Task_ForwardAtOnce",
            {
                "competent_body": "National Security Committee",
                "forwarded_at": "2026-03-02T10:20:00+05:00",
                "forward_reference": "1",
            },
            lane="secretariat",
        )
        assert h.completed
        assert h.data["appeal_result"]["outcome"] == "forwarded_urgently"


def test_outside_competence_forwarded_within_3_working_days() -> None:
    # Friday 6 March 2026; Monday 9 March is a holiday (8 March moved): 3 working days end on 12 March.
    with register(dict(SIGNED, received_at="2026-03-06T11:00:00+05:00", within_competence=False)) as h:
        task = h.ready("Task_ForwardToCompetentBody", lane="secretariat")[0]
        assert task.data["appeal_forward_due"] == "2026-03-12"
        h.advance(to="2026-03-10T10:00:00+05:00")
        h.complete(
            "Task_ForwardToCompetentBody",
            {
                "competent_body": "Akimat of Astana",
                "forwarded_at": "2026-03-10T09:30:00+05:00",
                "forward_reference": "ZT-0142/f",
                "applicant_notified_at": "2026-03-10T09:35:00+05:00",
            },
        )
        result = h.data["appeal_result"]
        assert (result["outcome"], result["competent_body"]) == ("forwarded", "Akimat of Astana")


@pytest.mark.parametrize(
    ("received_at", "registration_date"),
    [
        ("2026-03-02T18:29:00+05:00", "2026-03-02"),  # working day, office open
        ("2026-03-02T07:50:00+05:00", "2026-03-02"),  # before opening: still that day
        ("2026-03-02T18:30:00+05:00", "2026-03-03"),  # at closing time: next working day
        ("2026-03-06T19:00:00+05:00", "2026-03-10"),  # Friday evening; Monday 9 March is a holiday
        ("2026-03-21T12:00:00+05:00", "2026-03-26"),  # Saturday of Nauryz: next working day is 26 March
    ],
)
def test_registration_date(received_at: str, registration_date: str) -> None:
    with register(dict(SIGNED, received_at=received_at), now=received_at) as h:
        assert h.ready_names() == ["Task_AssignExecutor"]
        assert h.data["registration_date"] == registration_date


def test_deadline_crosses_the_nauryz_holidays() -> None:
    # Registered Monday 16 March 2026; 21-25 March are Nauryz days off: the 15th working day is 9 April.
    with register(dict(SIGNED, received_at="2026-03-16T09:15:00+05:00")) as h:
        data = h.ready("Task_AssignExecutor")[0].data
        assert data["appeal_deadline"] == "2026-04-09T18:30:00+05:00"
        assert data["appeal_reminder_at"] == "2026-04-06T18:30:00+05:00"
        assert data["appeal_extension_limit"] == "2026-05-16"


def test_full_consideration_with_information_request_reminder_and_returned_answer() -> None:
    with register(SIGNED) as h:
        data = h.ready("Task_AssignExecutor")[0].data
        assert data["appeal_deadline"] == "2026-03-27T18:30:00+05:00"
        h.complete("Task_AssignExecutor", {"executor": "a.serikova"}, lane="secretariat_head")
        h.complete("Task_ConsiderAppeal", {"next_step": "request_information"})
        h.complete(
            "Task_RequestInformation",
            {
                "information_requested_from": "Akimat",
                "request_sent_on": "2026-03-03",
                "information_received_on": "2026-03-12",
                "information_summary": "Signs fixed.",
            },
        )
        h.advance(to="2026-03-19T18:31:00+05:00")  # 3 working days before the deadline
        assert h.ready_names() == ["Task_ConsiderAppeal", "Task_DeadlineReminder"]
        h.complete("Task_DeadlineReminder", {"reminder_acknowledged": True}, lane="secretariat")
        h.complete("Task_ConsiderAppeal", {"next_step": "prepare_answer"})
        h.complete("Task_PrepareAnswer", {"answer_text": "Draft.", "answer_language": "ru"})
        h.complete(
            "Task_ApproveAnswer",
            {"answer_decision": "return", "answer_remarks": "Cite the law"},
            lane="secretariat_head",
        )
        assert h.ready_names() == ["Task_PrepareAnswer"]
        h.complete("Task_PrepareAnswer", {"answer_text": "Answer citing the law.", "answer_language": "ru"})
        h.complete("Task_ApproveAnswer", {"answer_decision": "approve"}, lane="secretariat_head")
        h.complete(
            "Task_SendAnswer",
            {
                "answer_sent_at": "2026-03-20T11:00:00+05:00",
                "outgoing_number": "1",
                "delivery_channel": "email",
            },
        )
        assert h.completed
        result = h.data["appeal_result"]
        assert result["outcome"] == "answered"
        assert result["answered_in_time"] is True
        assert result["answer_language"] == "ru"
        assert result["executor"] == "a.serikova"
        assert [e["event"] for e in result["history"]] == [
            "registered",
            "considered",
            "information_received",
            "considered",
            "answer_return",
            "answer_approve",
            "answered",
        ]


def test_escalation_when_overdue() -> None:
    with register(SIGNED) as h:
        h.complete("Task_AssignExecutor", {"executor": "a.serikova"})
        h.advance(to="2026-03-19T18:31:00+05:00")
        h.complete("Task_DeadlineReminder", {"reminder_acknowledged": True})
        h.advance(to="2026-03-27T18:29:00+05:00")
        assert "Task_EscalateOverdue" not in h.ready_names()
        h.advance(to="2026-03-27T18:31:00+05:00")
        assert h.ready_names() == ["Task_ConsiderAppeal", "Task_EscalateOverdue"]
        assert h.ready("Task_EscalateOverdue", lane="secretariat_head")
        h.complete("Task_EscalateOverdue", {"escalation_instructions": "Answer by Monday."})
        consider_and_answer(h, sent_at="2026-03-30T10:00:00+05:00")
        assert h.completed
        assert h.data["appeal_result"]["answered_in_time"] is False


def test_extension_limited_to_two_months_and_timers_follow_it() -> None:
    with register(SIGNED) as h:
        h.complete("Task_AssignExecutor", {"executor": "a.serikova"})
        h.complete(
            "Task_ConsiderAppeal",
            {"next_step": "request_extension", "extension_reason": "Expert opinion needed"},
        )
        assert h.ready_names() == ["Task_DecideExtension"]
        decision = {
            "extension_decision": "grant",
            "extension_until": "2026-06-30",
            "extension_ground": "establish_facts",
            "extension_reasons": "Inspection by the akimat",
        }
        with pytest.raises(InvalidInput) as beyond:  # refused, never silently cut
            h.complete("Task_DecideExtension", decision, lane="secretariat_head")
        [error] = beyond.value.details
        assert error["field"] == "$.extension_until" and "2026-05-02" in error["message"]
        assert "2026-05-02" in error["messages"]["kk"] and "2026-05-02" in error["messages"]["ru"]
        # Two months from receipt is Saturday 2 May: the time limit moves to Monday 4 May.
        h.complete("Task_DecideExtension", dict(decision, extension_until="2026-05-02"))
        task = h.ready("Task_NotifyExtension", lane="secretariat")[0]
        assert task.data["appeal_deadline"] == "2026-05-04T18:30:00+05:00"
        assert task.data["extension_notice_due"] == "2026-03-05"  # 3 working days from 2 March
        h.complete("Task_NotifyExtension", {"applicant_notified_on": "2026-03-03", "notice_reference": "N-1"})
        assert h.ready_names() == ["Task_ConsiderAppeal"]  # executor kept, no new assignment
        h.advance(to="2026-03-28T09:00:00+05:00")  # the original deadline has passed: no escalation
        assert h.ready_names() == ["Task_ConsiderAppeal"]
        h.advance(to="2026-04-28T18:31:00+05:00")  # 3 working days before 4 May (1 May is a holiday)
        assert h.ready_names() == ["Task_ConsiderAppeal", "Task_DeadlineReminder"]
        h.complete("Task_DeadlineReminder", {"reminder_acknowledged": True})
        consider_and_answer(h, sent_at="2026-04-30T10:00:00+05:00")
        assert h.completed
        result = h.data["appeal_result"]
        assert (result["extended"], result["answered_in_time"]) == (True, True)
        assert result["deadline"] == "2026-05-04T18:30:00+05:00"


def test_extension_refused_keeps_the_deadline() -> None:
    with register(SIGNED) as h:
        h.complete("Task_AssignExecutor", {"executor": "a.serikova"})
        h.complete("Task_ConsiderAppeal", {"next_step": "request_extension", "extension_reason": "Workload"})
        h.complete(
            "Task_DecideExtension", {"extension_decision": "refuse", "extension_reasons": "Not justified"}
        )
        assert h.ready_names() == ["Task_ConsiderAppeal"]
        consider_and_answer(h, sent_at="2026-03-10T10:00:00+05:00")
        result = h.data["appeal_result"]
        assert (result["extended"], result["deadline"]) == (False, "2026-03-27T18:30:00+05:00")


def test_registration_form_requires_applicant_details_unless_anonymous() -> None:
    with Harness("appeal", now="2026-03-02T10:00:00+05:00") as h:
        with pytest.raises(InvalidInput) as invalid:
            h.complete("Task_RegisterAppeal", {k: v for k, v in SIGNED.items() if k != "applicant_address"})
        assert [d["field"] for d in invalid.value.details] == ["$.applicant_address"]
        with pytest.raises(InvalidInput) as future:
            h.complete("Task_RegisterAppeal", dict(SIGNED, received_at="2026-03-02T05:00:01Z"))
        assert [d["field"] for d in future.value.details] == ["$.received_at"]
        assert h.ready_names() == ["Task_RegisterAppeal"]  # nothing was saved
        # Any offset is accepted, and stored as Astana time.
        h.complete("Task_RegisterAppeal", dict(SIGNED, received_at="2026-03-02T04:00:00Z"))
        assert h.ready_names() == ["Task_AssignExecutor"]
        assert h.data["received_at"] == "2026-03-02T09:00:00+05:00"


def test_audit_trail_records_every_step_with_its_data_actor_and_time() -> None:
    with register(SIGNED) as h:
        h.complete("Task_AssignExecutor", {"executor": "a.serikova"})
        h.advance(to="2026-03-19T18:31:00+05:00")
        h.complete("Task_DeadlineReminder", {"reminder_acknowledged": True})
        h.advance(to="2026-03-27T18:31:00+05:00")
        h.complete("Task_EscalateOverdue", {"escalation_instructions": "Answer by Monday."})
        with pytest.raises(InvalidInput):
            h.complete("Task_ConsiderAppeal", {"next_step": "guess"})
        h.advance(hours=1)
        consider_and_answer(h, sent_at="2026-03-27T19:40:00+05:00")
        assert h.completed
        history = h.history()
        assert (history[0]["action"], history[0]["actor"]) == ("instance.started", "system")
        assert h.audited_completions() == h.completions  # the refused form left no record
        assert [c["actor"] for c in h.completions] == [
            "secretariat.member",
            "secretariat_head.member",
            "secretariat.member",
            "secretariat_head.member",
            "secretariat.member",
            "secretariat.member",
            "secretariat_head.member",
            "secretariat.member",
        ]
        assert h.audited_timers() == [
            ("Timer_DeadlineReminder", "2026-03-19T13:31:00+00:00"),
            ("Timer_Overdue", "2026-03-27T13:31:00+00:00"),
        ]
        assert history[-1]["details"]["status"] == "complete"
