"""Council decisions (Regulations para 9; Law on the Assembly art. 10): who convenes, a deadline
that must lie ahead, and the meeting path beside the poll."""

import pytest

from app.errors import InvalidInput
from tests.procedures.harness import Harness

BY_DEPUTIES = {"convened_by": "deputy_chairmen", "convening_reference": "Proposal No. 1"}
BY_CHAIRMAN = {"convened_by": "chairman", "convening_reference": "Instruction No. 7"}
NOW = "2026-03-02T10:00:00+05:00"


def council(n: int) -> dict[str, list[str]]:
    return {"council": [f"member{i:02d}" for i in range(n)]}


def prepare(h: Harness, deadline: str, convening: dict) -> None:
    h.complete("Task_PreparePoll", {"poll_question": "Adopt?", "poll_deadline": deadline, **convening})


def test_a_deadline_in_the_past_is_refused_at_preparation_and_changes_nothing() -> None:
    # A week old, as a caller might pass it in the start data: the form rule refuses it.
    start = {"decision_method": "poll", "poll_question": "Q?", "poll_deadline": "2026-02-23T18:30:00+05:00"}
    with Harness("council_poll", start, groups=council(5), now=NOW) as h:
        before = h.size
        with pytest.raises(InvalidInput) as refused:
            prepare(h, "2026-02-23T18:30:00+05:00", BY_CHAIRMAN)
        [error] = refused.value.details
        assert error["field"] == "$.poll_deadline"
        assert set(error["messages"]) == {"kk", "ru", "en"}
        # The same moment as now is not in the future either.
        with pytest.raises(InvalidInput):
            prepare(h, "2026-03-02T05:00:00Z", BY_CHAIRMAN)
        assert h.ready_names() == ["Task_PreparePoll"] and h.size == before
        assert h.audited_completions() == []
        prepare(h, "2026-03-02T05:00:01Z", BY_CHAIRMAN)
        # Normalised to Astana time before anything reads it.
        assert h.data["poll_deadline"] == "2026-03-02T10:00:01+05:00"


def test_convened_by_the_chairman_opens_without_an_agreement_step() -> None:
    with Harness("council_poll", {"decision_method": "poll"}, groups=council(3), now=NOW) as h:
        prepare(h, "2026-03-05T18:30:00+05:00", BY_CHAIRMAN)
        assert set(h.ready_names()) == {"Task_CastBallot"}
        assert not h.reached("Task_ChairmanAgreement")


def test_convened_by_the_deputy_chairmen_needs_the_chairmans_agreement() -> None:
    with Harness("council_poll", {"decision_method": "poll"}, groups=council(3), now=NOW) as h:
        prepare(h, "2026-03-05T18:30:00+05:00", BY_DEPUTIES)
        assert h.ready_names() == ["Task_ChairmanAgreement"]
        h.complete("Task_ChairmanAgreement", {"chairman_decision": "agree"})
        assert set(h.ready_names()) == {"Task_CastBallot"}
        assert h.data["convened_by"] == "deputy_chairmen"


def test_a_deadline_that_passes_before_the_agreement_goes_back_to_the_secretariat() -> None:
    with Harness("council_poll", {"decision_method": "poll"}, groups=council(3), now=NOW) as h:
        prepare(h, "2026-03-03T18:30:00+05:00", BY_DEPUTIES)
        h.advance(to="2026-03-04T09:00:00+05:00")
        h.complete("Task_ChairmanAgreement", {"chairman_decision": "agree"})
        # Never "rejected" with nobody able to vote: the Secretariat sets a new deadline.
        assert h.ready_names() == ["Task_PreparePoll"]
        assert "poll_result" not in h.data
        prepare(h, "2026-03-10T18:30:00+05:00", BY_DEPUTIES)
        h.complete("Task_ChairmanAgreement", {"chairman_decision": "agree"})
        assert len(h.ready("Task_CastBallot")) == 3


@pytest.mark.parametrize(
    ("present", "votes_for", "outcome", "reason"),
    [
        (10, 10, "adopted", "meeting"),  # 15 members: quorum is 10 present, two thirds of 10 is 7
        (10, 7, "adopted", "meeting"),
        (10, 6, "rejected", "meeting"),
        (9, 9, "not_held", "no_quorum"),
        (15, 9, "rejected", "meeting"),  # two thirds of those present, not of all: 10 needed
    ],
)
def test_a_meeting_decides_by_two_thirds_of_the_members_present(
    present: int, votes_for: int, outcome: str, reason: str
) -> None:
    with Harness("council_poll", {"decision_method": "meeting"}, groups=council(15), now=NOW) as h:
        assert h.ready_names() == ["Task_RecordMeeting"]
        h.complete(
            "Task_RecordMeeting",
            {
                "poll_question": "Adopt?",
                "convened_by": "chairman",
                "meeting_date": "2026-03-02",
                "members_present": present,
                "votes_for": votes_for,
                "minutes_reference": "Minutes No. 2",
            },
        )
        assert h.completed
        result = h.data["poll_result"]
        assert (result["method"], result["outcome"], result["closing_reason"]) == ("meeting", outcome, reason)
        assert (result["total_members"], result["members_present"]) == (15, present)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"meeting_date": "2026-03-03"}, "$.meeting_date"),
        ({"votes_for": 11}, "$.votes_for"),
        ({"members_present": 16, "votes_for": 3}, "$.members_present"),
    ],
)
def test_a_meeting_record_that_cannot_be_true_is_refused(changes: dict, field: str) -> None:
    with Harness("council_poll", {"decision_method": "meeting"}, groups=council(15), now=NOW) as h:
        record = {
            "poll_question": "Adopt?",
            "convened_by": "chairman",
            "meeting_date": "2026-03-02",
            "members_present": 10,
            "votes_for": 7,
            "minutes_reference": "Minutes No. 2",
        }
        with pytest.raises(InvalidInput) as refused:
            h.complete("Task_RecordMeeting", {**record, **changes})
        assert [e["field"] for e in refused.value.details] == [field]
        assert h.ready_names() == ["Task_RecordMeeting"]
