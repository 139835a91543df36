"""Policy documents (Regulations para 25) and the Concept (para 26)."""

import pytest

from app.errors import InvalidInput
from tests.procedures.harness import Harness

DRAFT = {
    "document_title": "Plan on inter-ethnic harmony 2027-2029",
    "document_summary": "Measures.",
    "draft_text": "Full text, registry ref. 15-2/311",
}
APPROVE = {
    "Task_ExpertReview": {"expert_decision": "approve"},
    "Task_CouncilDiscussion": {"council_decision": "approve"},
    "Task_RecordSession": {"session_decision": "approve", "session_date": "2026-04-29"},
    "Task_PresidentApproval": {
        "president_decision": "approve",
        "approval_act": "Decree No. 101",
        "approval_date": "2026-05-15",
    },
}
RETURN = {
    "Task_ExpertReview": {"expert_decision": "return", "expert_remarks": "Add indicators"},
    "Task_CouncilDiscussion": {"council_decision": "return", "council_remarks": "Shorten"},
    "Task_RecordSession": {
        "session_decision": "return",
        "session_remarks": "Regional part",
        "session_date": "2026-04-28",
    },
    "Task_PresidentApproval": {"president_decision": "return", "president_remarks": "Align with the budget"},
}
STAGES = list(APPROVE)
LANES = {
    "Task_ExpertReview": "expert_council",
    "Task_CouncilDiscussion": "council",
    "Task_RecordSession": "secretariat",
    "Task_PresidentApproval": "president_office",
}


def run_stages(h: Harness, stages: list[str], last: dict | None = None) -> None:
    for name in stages:
        assert h.ready_names() == [name]
        h.complete(name, APPROVE[name] if last is None or name != stages[-1] else last, lane=LANES[name])


@pytest.mark.parametrize("returning_stage", STAGES)
def test_return_at_each_stage_goes_back_to_drafting(returning_stage: str) -> None:
    with Harness("policy_document", {"document_type": "plan"}) as h:
        h.complete("Task_DraftDocument", DRAFT, lane="secretariat")
        upto = STAGES[: STAGES.index(returning_stage) + 1]
        run_stages(h, upto, last=RETURN[returning_stage])
        assert h.ready_names() == ["Task_DraftDocument"]
        assert h.ready("Task_DraftDocument")[0].data["remarks_summary"].startswith("- ")
        h.complete("Task_DraftDocument", dict(DRAFT, change_note="Remarks addressed"))
        run_stages(h, STAGES)
        assert h.completed
        data = h.data
        assert [v["version"] for v in data["versions"]] == [1, 2]
        assert data["versions"][1]["change_note"] == "Remarks addressed"
        returns = [r for r in data["remarks"] if r["decision"] == "return"]
        assert len(returns) == 1
        assert returns[0]["version"] == 1
        assert returns[0]["remarks"] == next(
            v for k, v in RETURN[returning_stage].items() if k.endswith("remarks")
        )
        assert data["document_result"] == {
            "document_type": "plan",
            "title": DRAFT["document_title"],
            "version": 2,
            "approval_act": "Decree No. 101",
            "approval_date": "2026-05-15",
        }


def test_concept_goes_to_the_chairman_then_the_president() -> None:
    with Harness("policy_document", {"document_type": "concept"}) as h:
        h.complete("Task_DraftDocument", dict(DRAFT, document_title="Concept 2030 'Unity in Diversity'"))
        assert h.ready_names() == ["Task_ChairmanConsideration"]
        h.complete(
            "Task_ChairmanConsideration",
            {"chairman_review": "return", "chairman_remarks": "Vision"},
            lane="chairman",
        )
        h.complete("Task_DraftDocument", DRAFT)
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


def test_unknown_document_type_is_refused_by_the_start_form() -> None:
    with pytest.raises(InvalidInput) as refused:
        Harness("policy_document", {"document_type": "memo"})
    assert [d["field"] for d in refused.value.details] == ["$.document_type"]


def test_return_needs_remarks() -> None:
    with Harness("policy_document", {"document_type": "program"}) as h:
        h.complete("Task_DraftDocument", DRAFT)
        with pytest.raises(InvalidInput):
            h.complete("Task_ExpertReview", {"expert_decision": "return"})
        with pytest.raises(InvalidInput):
            h.complete("Task_ExpertReview", {"expert_decision": "return", "expert_remarks": ""})


def test_audit_trail_records_each_stage_with_its_data() -> None:
    with Harness("policy_document", {"document_type": "plan"}) as h:
        h.complete("Task_DraftDocument", DRAFT)
        with pytest.raises(InvalidInput):
            h.complete("Task_ExpertReview", {"expert_decision": "return"})
        h.complete("Task_ExpertReview", RETURN["Task_ExpertReview"])
        h.advance(days=3)
        h.complete("Task_DraftDocument", dict(DRAFT, change_note="Indicators added"))
        run_stages(h, STAGES)
        assert h.completed
        trail = h.audited_completions()
        assert trail == h.completions  # the refused form left no record
        assert [(c["element_id"], c["actor"], c["data"]) for c in trail] == [
            ("Task_DraftDocument", "secretariat.member", DRAFT),
            ("Task_ExpertReview", "expert_council.member", RETURN["Task_ExpertReview"]),
            ("Task_DraftDocument", "secretariat.member", dict(DRAFT, change_note="Indicators added")),
            *((name, f"{LANES[name]}.member", APPROVE[name]) for name in STAGES),
        ]
        assert trail[2]["at"] == "2026-03-05T05:00:00+00:00"
