"""Council decision by poll (Regulations para 9): two thirds of the TOTAL membership must vote for."""

import pytest
from jsonschema import Draft202012Validator, FormatChecker

from tests.procedures.harness import FORMS_DIR, Harness

DEADLINE = "2026-03-05T18:30:00+05:00"
BY_DEPUTIES = {"convened_by": "deputy_chairmen", "convening_reference": "Proposal No. 1"}
BY_CHAIRMAN = {"convened_by": "chairman", "convening_reference": "Instruction No. 7"}


def members(n: int) -> list[str]:
    return [f"member{i:02d}" for i in range(n)]


def open_poll(council: list[str], deadline: str = DEADLINE) -> Harness:
    h = Harness("council_poll", groups={"council": council}, now="2026-03-02T10:00:00+05:00")
    h.complete(
        "Task_PreparePoll",
        {
            "poll_question": "Adopt the address of the Assembly?",
            "poll_description": "Draft attached.",
            "poll_deadline": deadline,
            "convened_by": "deputy_chairmen",
            "convening_reference": "Proposal of the Deputy Chairmen No. 1",
        },
        lane="secretariat",
    )
    h.complete("Task_ChairmanAgreement", {"chairman_decision": "agree"}, lane="chairman")
    return h


def vote(h: Harness, username: str, choice: str, comment: str | None = None) -> None:
    data = {"vote": choice} if comment is None else {"vote": choice, "comment": comment}
    h.complete("Task_CastBallot", data, lane="council", where={"poll_voter.username": username})


@pytest.mark.parametrize(
    ("total", "votes_for", "outcome"),
    [
        (76, 50, "rejected"),
        (76, 51, "adopted"),
        (14, 9, "rejected"),
        (14, 10, "adopted"),
        (15, 10, "adopted"),
    ],
)
def test_two_thirds_of_the_total_membership(total: int, votes_for: int, outcome: str) -> None:
    council = members(total)
    with open_poll(council) as h:
        assert len(h.ready("Task_CastBallot")) == total
        for username in council[:votes_for]:
            vote(h, username, "for")
        for username in council[votes_for:]:
            if h.completed:
                break
            vote(h, username, "against")
        assert h.completed
        result = h.data["poll_result"]
        assert result["outcome"] == outcome
        assert result["total_members"] == total
        assert result["votes_for"] == votes_for
        assert (3 * result["votes_for"] >= 2 * total) == (outcome == "adopted")
        assert h.ready("Task_CastBallot") == []


def test_adopted_as_soon_as_two_thirds_reached_closes_early() -> None:
    council = members(15)
    with open_poll(council) as h:
        for username in council[:10]:
            vote(h, username, "for")
        result = h.data["poll_result"]
        assert (result["outcome"], result["closing_reason"]) == ("adopted", "outcome_decided")
        assert result["not_voted"] == 5
        assert sorted(result["ballots"]) == council[:10]


def test_rejected_as_soon_as_two_thirds_out_of_reach() -> None:
    council = members(6)
    with open_poll(council) as h:
        vote(h, council[0], "for")
        vote(h, council[1], "against", "Not ready")
        vote(h, council[2], "abstain")
        assert not h.completed  # 1 for + 3 outstanding: 4 of 6 still possible
        vote(h, council[3], "against")
        assert h.completed
        result = h.data["poll_result"]
        assert (result["outcome"], result["closing_reason"]) == ("rejected", "outcome_decided")
        assert (result["votes_for"], result["votes_against"], result["abstentions"], result["not_voted"]) == (
            1,
            2,
            1,
            2,
        )
        assert result["ballots"][council[1]] == {"vote": "against", "comment": "Not ready"}
        h.advance(to="2026-03-06T09:00:00+05:00")  # the deadline no longer matters
        assert h.data["poll_result"] == result


def test_all_voted() -> None:
    council = members(3)
    with open_poll(council) as h:
        vote(h, council[0], "for")
        vote(h, council[1], "against")
        vote(h, council[2], "for")
        result = h.data["poll_result"]
        assert (result["outcome"], result["closing_reason"], result["not_voted"]) == (
            "adopted",
            "all_voted",
            0,
        )


def test_deadline_counts_ballots_already_cast_and_missing_ones_against() -> None:
    council = members(5)
    with open_poll(council) as h:
        vote(h, council[0], "for", "Agreed")
        vote(h, council[1], "for")
        vote(h, council[2], "abstain")
        h.advance(to="2026-03-05T18:29:00+05:00")
        assert not h.completed
        assert len(h.ready("Task_CastBallot")) == 2
        h.advance(to="2026-03-05T18:31:00+05:00")
        assert h.completed
        result = h.data["poll_result"]
        assert result["closing_reason"] == "deadline"
        assert (result["votes_for"], result["abstentions"], result["not_voted"]) == (2, 1, 2)
        assert result["outcome"] == "rejected"  # 2 of 5 < two thirds: missing ballots count against
        assert result["ballots"] == {
            council[0]: {"vote": "for", "comment": "Agreed"},
            council[1]: {"vote": "for", "comment": ""},
            council[2]: {"vote": "abstain", "comment": ""},
        }


def test_deadline_with_half_the_members_for_rejects() -> None:
    council = members(4)
    with open_poll(council) as h:
        for username in council[:2]:
            vote(h, username, "for")
        h.advance(to="2026-03-06T09:00:00+05:00")
        result = h.data["poll_result"]
        assert (result["outcome"], result["closing_reason"], result["votes_for"]) == (
            "rejected",
            "deadline",
            2,
        )


def test_chairman_declines() -> None:
    with Harness("council_poll", groups={"council": members(5)}) as h:
        h.complete("Task_PreparePoll", {"poll_question": "Q?", "poll_deadline": DEADLINE, **BY_DEPUTIES})
        h.complete(
            "Task_ChairmanAgreement", {"chairman_decision": "decline", "chairman_reason": "Meet instead"}
        )
        assert h.completed
        result = h.data["poll_result"]
        assert result["outcome"] == "not_held"
        assert result["closing_reason"] == "declined"
        assert result["declined_reason"] == "Meet instead"
        assert result["ballots"] == {}


def test_membership_is_frozen_when_the_poll_opens() -> None:
    council = members(3)
    with open_poll(council) as h:
        h.add_members("council", ["newcomer1", "newcomer2", "newcomer3"])
        vote(h, council[0], "for")
        vote(h, council[1], "for")
        result = h.data["poll_result"]
        assert result["total_members"] == 3
        assert result["outcome"] == "adopted"


def test_forms_make_invalid_data_impossible() -> None:
    import json

    ballot = Draft202012Validator(json.loads((FORMS_DIR / "poll_ballot.schema.json").read_text()))
    assert not ballot.is_valid({"vote": "maybe"})
    assert not ballot.is_valid({})
    assert ballot.is_valid({"vote": "abstain"})
    agreement = Draft202012Validator(
        json.loads((FORMS_DIR / "poll_chairman_agreement.schema.json").read_text())
    )
    assert not agreement.is_valid({"chairman_decision": "decline"})
    assert not agreement.is_valid({"chairman_decision": "decline", "chairman_reason": ""})
    assert not agreement.is_valid({"chairman_decision": "decline", "chairman_reason": "   "})
    assert agreement.is_valid({"chairman_decision": "agree"})
    prepare = Draft202012Validator(
        json.loads((FORMS_DIR / "poll_prepare.schema.json").read_text()), format_checker=FormatChecker()
    )
    assert prepare.is_valid({"poll_question": "Q", "poll_deadline": DEADLINE, **BY_CHAIRMAN})
    assert not prepare.is_valid({"poll_question": "Q", "poll_deadline": "2026-03-05T18:30:00", **BY_CHAIRMAN})
    assert not prepare.is_valid({"poll_question": "Q", "poll_deadline": DEADLINE})


def test_audit_trail_records_each_ballot_as_cast_by_its_member() -> None:
    council = members(3)
    with open_poll(council) as h:
        vote(h, council[1], "against", "Too vague")
        h.advance(hours=2)
        vote(h, council[0], "for")
        vote(h, council[2], "for")
        assert h.completed
        assert h.audited_completions() == h.completions
        ballots = [c for c in h.audited_completions() if c["element_id"] == "Task_CastBallot"]
        assert [(c["actor"], c["data"]) for c in ballots] == [
            (council[1], {"vote": "against", "comment": "Too vague"}),
            (council[0], {"vote": "for"}),
            (council[2], {"vote": "for"}),
        ]
        assert [c["at"] for c in ballots] == [
            "2026-03-02T05:00:00+00:00",
            "2026-03-02T07:00:00+00:00",
            "2026-03-02T07:00:00+00:00",
        ]
        assert h.history()[-1]["details"]["status"] == "complete"
