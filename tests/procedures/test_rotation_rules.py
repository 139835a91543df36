"""Deputy rotation (Regulations para 10): the Council votes on the named candidates, the order
appoints only them, and the term comes from the President's act."""

import pytest

from app.errors import InvalidInput
from tests.procedures.harness import Harness
from tests.procedures.test_deputy_rotation import BY_DEPUTIES, COUNCIL, NOMINATIONS, council_poll, order


def rotation(term_end: str, now: str, deputies: list[str] | None = None) -> Harness:
    start = {
        "term_end": term_end,
        "term_months": 12,
        "current_deputies": deputies or ["P. Petrov", "S. Said"],
    }
    return Harness("deputy_rotation", start, groups={"council": COUNCIL}, now=now)


def refused_field(h: Harness, task: str, data: dict) -> str:
    with pytest.raises(InvalidInput) as refused:
        h.complete(task, data)
    [error] = refused.value.details
    assert h.ready(task), "the task must stay open"
    return error["field"]


def test_the_poll_question_is_the_nominated_candidates_and_cannot_be_edited() -> None:
    with rotation("2026-06-30", "2026-04-01T10:00:00+05:00") as h:
        h.complete("Task_CollectNominations", NOMINATIONS)
        question = h.ready("Task_PreparePoll")[0].data["poll_question"]
        assert "Anna Kim" in question and "Rustam Aliyev" in question
        edited = {"poll_question": "Recommend John Doe?", "poll_deadline": "2026-06-20T18:30:00+05:00"}
        assert refused_field(h, "Task_PreparePoll", {**edited, **BY_DEPUTIES}) == "$.poll_question"


@pytest.mark.parametrize("second", ["Anna Kim", "  anna   KIM "])
def test_the_same_person_cannot_fill_both_seats(second: str) -> None:
    with rotation("2026-06-30", "2026-04-01T10:00:00+05:00") as h:
        same = {**NOMINATIONS, "candidate_2_name": second}
        assert refused_field(h, "Task_CollectNominations", same) == "$.candidate_2_name"


def test_the_order_names_only_the_recommended_candidates_and_not_before_the_recommendation() -> None:
    with rotation("2026-06-30", "2026-04-01T10:00:00+05:00") as h:
        h.complete("Task_CollectNominations", NOMINATIONS)
        council_poll(h, ["for", "for", "for"])
        other = {**order("No. 1", "2026-04-02"), "appointed_2_name": "John Doe"}
        assert refused_field(h, "Task_IssueExecutiveOrder", other) == "$.appointed_1_name"
        assert refused_field(h, "Task_IssueExecutiveOrder", order("No. 1", "2026-03-31")) == "$.order_date"
        # The recommendation was decided on 1 April: an order of that day is fine, names in any order.
        swapped = {
            **order("No. 1", "2026-04-01"),
            "appointed_1_name": "Rustam Aliyev",
            "appointed_2_name": "Anna Kim",
        }
        h.complete("Task_IssueExecutiveOrder", swapped)
        for name in ("Task_Reminder60", "Task_Reminder30"):
            if h.ready(name):
                h.complete(name, {"reminder_acknowledged": True})
        assert h.completed


def test_a_deputy_of_the_ending_term_nominated_again_is_flagged() -> None:
    with rotation("2026-06-30", "2026-04-01T10:00:00+05:00", deputies=["Anna  Kim", "S. Said"]) as h:
        h.complete("Task_CollectNominations", NOMINATIONS)
        prepare = h.ready("Task_PreparePoll")[0].data
        assert "Anna Kim also served as Deputy Chairman in the ending term" in prepare["poll_description"]
        council_poll(h, ["for", "for", "for"])
        h.complete("Task_IssueExecutiveOrder", order("No. 2", "2026-06-15"))
        for name in ("Task_Reminder60", "Task_Reminder30"):
            if h.ready(name):
                h.complete(name, {"reminder_acknowledged": True})
        assert h.data["appointment"]["renominated"] == ["Anna Kim"]


@pytest.mark.parametrize(
    ("term_end", "order_date", "months", "term_start", "next_term_end"),
    [
        # A 12-month term from 29 February 2024: the same date a year later is 1 March 2025.
        ("2024-02-28", "2024-02-20", 12, "2024-02-29", "2025-02-28"),
        ("2025-02-28", "2025-02-20", 12, "2025-03-01", "2026-02-28"),
        ("2027-02-28", "2027-02-20", 12, "2027-03-01", "2028-02-29"),
        ("2028-02-28", "2028-02-20", 12, "2028-02-29", "2029-02-28"),
        # The President's act sets the term: the order records it, not the start data.
        ("2026-06-30", "2026-06-20", 24, "2026-07-01", "2028-06-30"),
        ("2026-01-30", "2026-01-20", 1, "2026-01-31", "2026-02-28"),  # no 31 February: to 1 March
    ],
)
def test_the_next_term_is_planned_from_the_order(
    term_end: str, order_date: str, months: int, term_start: str, next_term_end: str
) -> None:
    year = term_end[:4]
    with rotation(term_end, f"{year}-01-10T10:00:00+05:00") as h:
        h.complete("Task_CollectNominations", NOMINATIONS)
        question = h.ready("Task_PreparePoll")[0].data["poll_question"]
        h.complete(
            "Task_PreparePoll",
            {"poll_question": question, "poll_deadline": f"{year}-01-15T18:30:00+05:00", **BY_DEPUTIES},
        )
        h.complete("Task_ChairmanAgreement", {"chairman_decision": "agree"})
        for username in COUNCIL[:2]:
            h.complete("Task_CastBallot", {"vote": "for"}, where={"poll_voter.username": username})
        h.complete("Task_IssueExecutiveOrder", order("No. 5", order_date, months))
        for name in ("Task_Reminder60", "Task_Reminder30"):
            while h.ready(name):
                h.complete(name, {"reminder_acknowledged": True})
        assert h.completed
        appointment = h.data["appointment"]
        assert (appointment["term_start"], appointment["term_end"]) == (term_start, next_term_end)
        assert (appointment["term_months"], h.data["next_term_end"]) == (months, next_term_end)
