"""Rotation of the Deputy Chairmen from ethno-cultural associations (Regulations para 10)."""

import pytest

from tests.procedures.harness import Harness

COUNCIL = ["aigerim", "boris", "dana"]
NOMINATIONS = {
    "candidate_1_name": "Anna Kim",
    "candidate_1_association": "Korean association",
    "candidate_2_name": "Rustam Aliyev",
    "candidate_2_association": "Azerbaijani association",
    "nomination_note": "Nominated by the associations' congresses.",
    "decision_method": "poll",
}
BY_DEPUTIES = {"convened_by": "deputy_chairmen", "convening_reference": "Proposal No. 1"}


def order(number: str, order_date: str, term_months: int = 12) -> dict:
    """An issued executive order appointing the two nominated candidates."""
    return {
        "order_decision": "issued",
        "order_number": number,
        "order_date": order_date,
        "appointed_1_name": NOMINATIONS["candidate_1_name"],
        "appointed_2_name": NOMINATIONS["candidate_2_name"],
        "term_months": term_months,
    }


def start(
    term_end: str = "2026-06-30", term_months: int | None = None, now: str = "2026-04-01T10:00:00+05:00"
):
    return Harness(
        "deputy_rotation",
        {"term_end": term_end, "term_months": term_months, "current_deputies": ["P. Petrov", "S. Said"]},
        groups={"council": COUNCIL},
        now=now,
    )


def council_poll(h: Harness, votes: list[str]) -> None:
    """Run the council_poll call activity: prepare, agree, vote."""
    prepared = h.ready("Task_PreparePoll", lane="secretariat")[0].data["poll_question"]
    assert "Anna Kim" in prepared  # pre-filled by the rotation
    h.complete(
        "Task_PreparePoll",
        {"poll_question": prepared, "poll_deadline": "2026-06-20T18:30:00+05:00", **BY_DEPUTIES},
    )
    h.complete("Task_ChairmanAgreement", {"chairman_decision": "agree"}, lane="chairman")
    for username, choice in zip(COUNCIL, votes, strict=True):
        if h.ready("Task_CastBallot"):
            h.complete(
                "Task_CastBallot", {"vote": choice}, lane="council", where={"poll_voter.username": username}
            )


def test_rejection_then_recommendation_and_one_return_by_the_president() -> None:
    with start() as h:
        assert h.ready_names() == ["Task_CollectNominations"]
        assert h.waiting_timers() == ["Timer_Reminder30", "Timer_Reminder60"]
        h.advance(to="2026-05-01T09:01:00+05:00")  # 60 days before 30 June
        assert h.ready_names() == ["Task_CollectNominations", "Task_Reminder60"]
        h.complete("Task_Reminder60", {"reminder_acknowledged": True}, lane="secretariat")

        h.complete("Task_CollectNominations", NOMINATIONS, lane="secretariat")
        council_poll(h, ["for", "against", "against"])  # not recommended
        assert h.ready_names() == ["Task_CollectNominations"]

        h.complete("Task_CollectNominations", NOMINATIONS)
        council_poll(h, ["for", "for", "for"])
        assert h.ready_names() == ["Task_IssueExecutiveOrder"]
        h.complete(
            "Task_IssueExecutiveOrder",
            {"order_decision": "returned", "return_reason": "Biography missing"},
            lane="president_office",
        )
        assert h.ready_names() == ["Task_CollectNominations"]

        task = h.ready("Task_CollectNominations")[0]
        assert task.data["current_deputies_text"] == "P. Petrov, S. Said"
        assert task.data["rotation_summary"] == (
            "- not_recommended: Anna Kim and Rustam Aliyev\n- order_returned: Anna Kim and Rustam Aliyev"
        )
        h.complete("Task_CollectNominations", NOMINATIONS)
        council_poll(h, ["for", "for", "abstain"])
        h.advance(to="2026-05-31T09:01:00+05:00")  # 30 days before
        assert h.ready_names() == ["Task_IssueExecutiveOrder", "Task_Reminder30"]
        h.complete(
            "Task_Reminder30", {"reminder_acknowledged": True, "reminder_note": "Order is being signed"}
        )
        h.complete("Task_IssueExecutiveOrder", order("No. 12", "2026-06-15"), lane="president_office")
        assert h.completed
        data = h.data
        assert data["appointment"] == {
            "deputies": [
                {"name": "Anna Kim", "association": "Korean association"},
                {"name": "Rustam Aliyev", "association": "Azerbaijani association"},
            ],
            "order_number": "No. 12",
            "order_date": "2026-06-15",
            "term_start": "2026-07-01",
            "term_end": "2027-06-30",
            "term_months": 12,
            "renominated": [],
        }
        assert data["next_term_end"] == "2027-06-30"
        assert [e["event"] for e in data["rotation_history"]] == ["not_recommended", "order_returned"]
        assert data["rotation_history"][1]["reason"] == "Biography missing"
        assert data["poll_result"]["outcome"] == "adopted"


@pytest.mark.parametrize(
    ("term_end", "term_months", "order_date", "term_start", "next_term_end"),
    [
        ("2026-06-30", None, "2026-06-20", "2026-07-01", "2027-06-30"),  # default 12 months
        ("2026-06-30", 6, "2026-06-20", "2026-07-01", "2026-12-31"),
        ("2026-06-30", 12, "2026-07-10", "2026-07-10", "2027-07-09"),  # order after the term ended
        ("2027-02-27", 12, "2027-02-01", "2027-02-28", "2028-02-27"),
    ],
)
def test_term_of_the_appointment(term_end, term_months, order_date, term_start, next_term_end) -> None:
    with start(term_end=term_end, term_months=term_months, now="2026-06-01T10:00:00+05:00") as h:
        h.complete("Task_CollectNominations", NOMINATIONS)
        council_poll(h, ["for", "for", "for"])
        h.complete("Task_IssueExecutiveOrder", order("7", order_date, term_months or 12))
        for name in ("Task_Reminder60", "Task_Reminder30"):
            if h.ready(name):
                h.complete(name, {"reminder_acknowledged": True})
        assert h.completed
        assert h.data["appointment"]["term_start"] == term_start
        assert h.data["next_term_end"] == next_term_end


def test_chairman_declining_the_poll_means_no_recommendation() -> None:
    with start() as h:
        h.complete("Task_CollectNominations", NOMINATIONS)
        question = h.ready("Task_PreparePoll")[0].data["poll_question"]
        h.complete(
            "Task_PreparePoll",
            {"poll_question": question, "poll_deadline": "2026-06-20T18:30:00+05:00", **BY_DEPUTIES},
        )
        h.complete("Task_ChairmanAgreement", {"chairman_decision": "decline", "chairman_reason": "Too early"})
        assert h.ready_names() == ["Task_CollectNominations"]
        # Not "not recommended": the Council took no decision on the candidates.
        assert h.ready("Task_CollectNominations")[0].data["rotation_history"][0]["event"] == (
            "recommendation_not_held"
        )


def test_audit_trail_records_the_rotation_and_its_poll() -> None:
    with start() as h:
        h.advance(to="2026-05-01T09:01:00+05:00")
        h.complete("Task_Reminder60", {"reminder_acknowledged": True})
        h.complete("Task_CollectNominations", NOMINATIONS)
        council_poll(h, ["for", "for", "against"])
        h.complete("Task_IssueExecutiveOrder", order("No. 3", "2026-05-04"))
        assert h.completed
        assert h.audited_completions() == h.completions
        assert [(c["element_id"], c["actor"]) for c in h.completions] == [
            ("Task_Reminder60", "secretariat.member"),
            ("Task_CollectNominations", "secretariat.member"),
            ("Task_PreparePoll", "secretariat.member"),
            ("Task_ChairmanAgreement", "chairman.member"),
            ("Task_CastBallot", "aigerim"),
            ("Task_CastBallot", "boris"),  # two of three for: adopted, dana's ballot withdrawn
            ("Task_IssueExecutiveOrder", "president_office.member"),
        ]
        assert h.audited_timers() == [("Timer_Reminder60", "2026-05-01T04:01:00+00:00")]
        started = h.history()[0]
        assert started["action"] == "instance.started"
        assert started["details"]["data"]["current_deputies"] == ["P. Petrov", "S. Said"]
