"""Policy documents (Regulations para 25), the Concept (para 26) and programme documents (para 6)."""

import pytest

from app.errors import InvalidInput
from tests.procedures.harness import Harness

DRAFT = {
    "document_title": "Plan on inter-ethnic harmony 2027-2029",
    "document_summary": "Measures.",
    "draft_text": "Full text, registry ref. 15-2/311",
    "council_decision_method": "poll",
}
CONCLUSION = {"conclusion_reference": "SEC conclusion No. 4", "conclusion_date": "2026-03-02"}
APPROVE = {
    "Task_ExpertReview": {"expert_decision": "approve", **CONCLUSION},
    "Task_RecordSession": {"session_decision": "approve", "session_date": "2026-03-02"},
    "Task_PresidentApproval": {
        "president_decision": "approve",
        "approval_act": "Decree No. 101",
        "approval_date": "2026-05-15",
    },
}
RETURN = {
    "Task_ExpertReview": {"expert_decision": "return", "expert_remarks": "Add indicators", **CONCLUSION},
    "Task_RecordSession": {
        "session_decision": "return",
        "session_remarks": "Regional part",
        "session_date": "2026-03-01",
    },
    "Task_PresidentApproval": {"president_decision": "return", "president_remarks": "Align with the budget"},
}
REFUSE = {
    "Task_RecordSession": {
        "session_decision": "refuse",
        "session_remarks": "Not needed",
        "session_date": "2026-03-01",
    },
    "Task_PresidentApproval": {"president_decision": "refuse", "president_remarks": "Superseded"},
    "Task_ChairmanConsideration": {"chairman_review": "refuse", "chairman_remarks": "Premature"},
}
LANES = {
    "Task_ExpertReview": "expert_council_secretary",
    "Task_RecordSession": "secretariat",
    "Task_PresidentApproval": "president_office",
    "Task_ChairmanConsideration": "chairman",
}
COUNCIL = [f"member{i:02d}" for i in range(15)]


def council_decides(h: Harness, votes_for: int) -> None:
    """The Council's support, by a poll of its 15 members convened by the Chairman."""
    question = h.ready("Task_PreparePoll")[0].data["poll_question"]
    h.complete(
        "Task_PreparePoll",
        {
            "poll_question": question,
            "poll_deadline": "2026-03-06T18:30:00+05:00",
            "convened_by": "chairman",
            "convening_reference": "Instruction No. 3",
        },
    )
    for index, member in enumerate(COUNCIL):
        if not h.ready("Task_CastBallot"):
            break
        choice = "for" if index < votes_for else "against"
        h.complete("Task_CastBallot", {"vote": choice}, where={"poll_voter.username": member})


def draft(h: Harness, **changes: str) -> None:
    h.complete("Task_DraftDocument", {**DRAFT, **changes}, lane="secretariat")


def to_session(h: Harness) -> None:
    draft(h)
    h.complete("Task_ExpertReview", APPROVE["Task_ExpertReview"], lane=LANES["Task_ExpertReview"])
    council_decides(h, votes_for=10)
    assert h.ready_names() == ["Task_RecordSession"]


def policy(document_type: str = "plan") -> Harness:
    return Harness(
        "policy_document",
        {"document_type": document_type},
        groups={"council": COUNCIL},
        now="2026-03-02T10:00:00+05:00",
    )


def test_a_plan_goes_through_the_experts_the_council_the_session_and_the_president() -> None:
    with policy() as h:
        to_session(h)
        h.complete("Task_RecordSession", APPROVE["Task_RecordSession"])
        h.complete("Task_PresidentApproval", APPROVE["Task_PresidentApproval"])
        assert h.completed
        assert h.data["document_result"] == {
            "document_type": "plan",
            "title": DRAFT["document_title"],
            "version": 1,
            "approval_act": "Decree No. 101",
            "approval_date": "2026-05-15",
            "outcome": "approved",
            "approved_by": "president",
        }
        assert [(r["stage"], r["decision"]) for r in h.data["remarks"]] == [
            ("expert_review", "approve"),
            ("council", "approve"),
            ("session", "approve"),
            ("president", "approve"),
        ]


def test_the_councils_support_is_a_council_decision_of_two_thirds_of_fifteen() -> None:
    with policy() as h:
        draft(h)
        h.complete("Task_ExpertReview", APPROVE["Task_ExpertReview"])
        question = h.ready("Task_PreparePoll")[0].data["poll_question"]
        assert DRAFT["document_title"] in question
        council_decides(h, votes_for=9)  # 9 of 15: not two thirds
        assert h.ready_names() == ["Task_CouncilOutcome"]
        assert h.data["poll_result"]["outcome"] == "rejected"
        # The Council decided: submitting the same draft again is not what follows.
        with pytest.raises(InvalidInput) as refused:
            h.complete(
                "Task_CouncilOutcome",
                {"council_outcome": "resubmit", "council_remarks": "Again", "decision_method": "poll"},
            )
        assert [e["field"] for e in refused.value.details] == ["$.council_outcome"]
        h.complete(
            "Task_CouncilOutcome",
            {"council_outcome": "revise", "council_remarks": "Shorten", "decision_method": "poll"},
        )
        assert h.ready_names() == ["Task_DraftDocument"]
        draft(h, change_note="Shortened")
        h.complete("Task_ExpertReview", APPROVE["Task_ExpertReview"])
        council_decides(h, votes_for=10)  # 10 of 15: two thirds
        assert h.ready_names() == ["Task_RecordSession"]
        assert h.data["poll_result"]["votes_for"] == 10


def test_the_council_may_decide_at_a_meeting() -> None:
    with policy() as h:
        draft(h, council_decision_method="meeting")
        h.complete("Task_ExpertReview", APPROVE["Task_ExpertReview"])
        assert h.ready_names() == ["Task_RecordMeeting"]
        question = h.ready("Task_RecordMeeting")[0].data["poll_question"]
        meeting = {
            "poll_question": question,
            "convened_by": "chairman",
            "meeting_date": "2026-03-02",
            "members_present": 12,
            "votes_for": 8,
            "minutes_reference": "Minutes No. 1",
        }
        h.complete("Task_RecordMeeting", meeting)
        assert h.ready_names() == ["Task_RecordSession"]


@pytest.mark.parametrize("stage", ["council", "Task_RecordSession", "Task_PresidentApproval"])
def test_a_refusal_at_any_stage_ends_the_procedure_with_the_reason(stage: str) -> None:
    with policy() as h:
        if stage == "council":
            draft(h)
            h.complete("Task_ExpertReview", APPROVE["Task_ExpertReview"])
            council_decides(h, votes_for=2)
            h.complete(
                "Task_CouncilOutcome",
                {
                    "council_outcome": "refuse",
                    "council_remarks": "Decision No. 7: not pursued",
                    "decision_method": "poll",
                },
            )
            reason, where = "Decision No. 7: not pursued", "council"
        else:
            to_session(h)
            if stage == "Task_PresidentApproval":
                h.complete("Task_RecordSession", APPROVE["Task_RecordSession"])
            h.complete(stage, REFUSE[stage])
            reason = next(v for k, v in REFUSE[stage].items() if k.endswith("remarks"))
            where = {"Task_RecordSession": "session", "Task_PresidentApproval": "president"}[stage]
        assert h.completed
        result = h.data["document_result"]
        assert (result["outcome"], result["stage"], result["reason"]) == ("refused", where, reason)
        assert not h.reached("Script_RecordApproval")


def test_a_concept_refused_by_the_chairman_ends_there() -> None:
    with policy("concept") as h:
        draft(h)
        h.complete("Task_ChairmanConsideration", REFUSE["Task_ChairmanConsideration"])
        assert h.completed and not h.reached("Task_PresidentApproval")
        assert h.data["document_result"]["stage"] == "chairman"


@pytest.mark.parametrize(
    "returning_stage", ["Task_ExpertReview", "Task_RecordSession", "Task_PresidentApproval"]
)
def test_return_at_each_stage_goes_back_to_drafting(returning_stage: str) -> None:
    with policy() as h:
        draft(h)
        h.complete(
            "Task_ExpertReview",
            APPROVE["Task_ExpertReview"]
            if returning_stage != "Task_ExpertReview"
            else RETURN["Task_ExpertReview"],
        )
        if returning_stage != "Task_ExpertReview":
            council_decides(h, votes_for=15)
            if returning_stage == "Task_PresidentApproval":
                h.complete("Task_RecordSession", APPROVE["Task_RecordSession"])
            h.complete(returning_stage, RETURN[returning_stage])
        assert h.ready_names() == ["Task_DraftDocument"]
        assert h.ready("Task_DraftDocument")[0].data["remarks_summary"].startswith("- ")
        returns = [r for r in h.data["remarks"] if r["decision"] == "return"]
        assert [r["version"] for r in returns] == [1]


def test_concept_goes_to_the_chairman_then_the_president() -> None:
    with policy("concept") as h:
        draft(h, document_title="Concept 2030 'Unity in Diversity'")
        assert h.ready_names() == ["Task_ChairmanConsideration"]
        h.complete("Task_ChairmanConsideration", {"chairman_review": "return", "chairman_remarks": "Vision"})
        draft(h)
        h.complete("Task_ChairmanConsideration", {"chairman_review": "approve"}, lane="chairman")
        assert h.ready_names() == ["Task_PresidentApproval"]
        h.complete("Task_PresidentApproval", APPROVE["Task_PresidentApproval"], lane="president_office")
        assert h.completed
        assert not h.reached("Task_ExpertReview")
        assert [(r["stage"], r["decision"]) for r in h.data["remarks"]] == [
            ("chairman", "return"),
            ("chairman", "approve"),
            ("president", "approve"),
        ]
        assert h.data["document_result"]["version"] == 2


def test_a_programme_document_is_approved_by_the_chairman() -> None:
    with policy("program") as h:
        draft(h)
        assert h.ready_names() == ["Task_ChairmanApprovesProgramme"]
        with pytest.raises(InvalidInput):
            h.complete("Task_ChairmanApprovesProgramme", {"programme_decision": "approve"})
        h.complete(
            "Task_ChairmanApprovesProgramme",
            {"programme_decision": "approve", "approval_act": "Order No. 9", "approval_date": "2026-03-02"},
            lane="chairman",
        )
        assert h.completed
        result = h.data["document_result"]
        assert (result["approved_by"], result["approval_act"]) == ("chairman", "Order No. 9")
        assert not h.reached("Task_PresidentApproval") and not h.reached("Task_ExpertReview")


def test_unknown_document_type_is_refused_by_the_start_form() -> None:
    with pytest.raises(InvalidInput) as refused:
        Harness("policy_document", {"document_type": "memo"})
    assert [d["field"] for d in refused.value.details] == ["$.document_type"]


def test_the_expert_conclusion_is_recorded_by_the_councils_secretary_with_its_document() -> None:
    with policy() as h:
        draft(h)
        [task] = h.ready("Task_ExpertReview")
        assert task.group == "expert_council_secretary"
        with pytest.raises(InvalidInput):
            h.complete("Task_ExpertReview", {"expert_decision": "approve"})  # no conclusion document
        with pytest.raises(InvalidInput):
            h.complete("Task_ExpertReview", {"expert_decision": "return", **CONCLUSION})  # no remarks
        with pytest.raises(InvalidInput) as future:
            h.complete("Task_ExpertReview", dict(APPROVE["Task_ExpertReview"], conclusion_date="2026-03-03"))
        assert [e["field"] for e in future.value.details] == ["$.conclusion_date"]
        h.complete("Task_ExpertReview", RETURN["Task_ExpertReview"])
        trail = h.audited_completions()
        assert trail == h.completions  # the refused forms left no record
        assert [(c["element_id"], c["actor"]) for c in trail] == [
            ("Task_DraftDocument", "secretariat.member"),
            ("Task_ExpertReview", "expert_council_secretary.member"),
        ]


def test_a_programme_document_refused_by_the_chairman_ends_there() -> None:
    with policy("program") as h:
        draft(h)
        refusal = {"programme_decision": "refuse", "programme_remarks": "Covered by the Concept"}
        h.complete("Task_ChairmanApprovesProgramme", refusal)
        assert h.completed
        result = h.data["document_result"]
        assert (result["outcome"], result["stage"], result["reason"]) == (
            "refused",
            "chairman_programme",
            "Covered by the Concept",
        )
