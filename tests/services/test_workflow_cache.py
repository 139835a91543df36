"""The workflows a process keeps after storing them (ServiceContext.workflows), and completions
worked out before the write lock is taken (SQLite)."""

from __future__ import annotations

import threading
import time

import pytest

from app.db.session import make_engine, make_session_factory, sqlite_write_lock
from app.errors import Forbidden
from app.services.context import ServiceContext
from app.services.modelling import deployments
from app.services.people.users import SYSTEM
from app.services.running import instances
from app.services.work import tasks
from tests.conftest import make_user, read_fixture


@pytest.fixture
def voters(ctx):
    people = make_user(ctx, "vera", ["voters"]), make_user(ctx, "vlad", ["voters"])
    deployments.deploy(ctx, SYSTEM, read_fixture("two_ballots.bpmn"))  # lanes need their groups
    return people


@pytest.fixture
def other_process(ctx):
    """A second context on the same database, as another serving process has: its own caches."""
    engine = make_engine(ctx.settings.database_url)
    yield ServiceContext(make_session_factory(engine), ctx.settings, clock=ctx.clock)
    engine.dispose()


def _ballots(view) -> dict[str, str]:
    return {t["name"]: t["id"] for t in view["tasks"]}


def test_kept_after_the_commit_and_taken_by_the_next_step(ctx, voters):
    view = instances.start_instance(ctx, SYSTEM, "two_ballots", {})
    kept = ctx.workflows.take(view["id"], 1)
    assert kept is not None and not kept.is_completed()
    assert ctx.workflows.take(view["id"], 1) is None  # taken out once
    ctx.workflows.keep(view["id"], 1, kept, {}, {})
    assert ctx.workflows.take(view["id"], 2) is None  # another row version: not this object


def test_a_change_by_another_process_is_not_overwritten_by_a_kept_workflow(ctx, other_process, voters):
    """This process keeps the workflow it started; another process completes one ballot; this
    process then completes the other from the row, not from the stale object, and both votes
    stay."""
    vera, vlad = voters
    view = instances.start_instance(ctx, SYSTEM, "two_ballots", {})
    ballots = _ballots(view)
    tasks.complete_task(other_process, vera, ballots["Task_BallotA"], {"vote_a": "a"})
    tasks.complete_task(ctx, vlad, ballots["Task_BallotB"], {"vote_b": "b"})
    final = instances.get_instance(ctx, SYSTEM, view["id"])
    assert final["status"] == "complete"
    assert (final["data"]["vote_a"], final["data"]["vote_b"]) == ("a", "b")


def test_steps_in_one_process_go_on_from_the_kept_workflow(ctx, voters):
    vera, vlad = voters
    view = instances.start_instance(ctx, SYSTEM, "two_ballots", {})
    ballots = _ballots(view)
    first = tasks.complete_task(ctx, vera, ballots["Task_BallotA"], {"vote_a": "a"})
    assert first["status"] == "running"
    assert ctx.workflows.take(view["id"], 2) is not None  # stored with row version 2 and kept
    tasks.complete_task(ctx, vlad, ballots["Task_BallotB"], {"vote_b": "b"})
    final = instances.get_instance(ctx, SYSTEM, view["id"])
    assert final["status"] == "complete" and final["data"]["vote_b"] == "b"
    assert ctx.workflows.take(view["id"], 3) is None  # a finished instance is not kept


def _held_write_lock(ctx):
    if not ctx.write_lock_is_global:
        pytest.skip("SQLite works a completion out before it takes the database's write lock")
    return sqlite_write_lock(ctx.session_factory.kw["bind"])


def _in_thread(call) -> tuple[threading.Thread, list]:
    outcome: list = []

    def run() -> None:
        try:
            outcome.append(call())
        except Exception as exc:  # reported by the test
            outcome.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    time.sleep(0.5)  # the completion has been worked out and waits for the write lock
    return thread, outcome


def test_a_completion_worked_out_before_a_change_is_worked_out_again(ctx, voters):
    """SQLite: ballot A's completion is worked out on row version 1, then waits for the write
    lock while ballot B is completed; under the lock it finds version 2 and runs again on it."""
    vera, vlad = voters
    view = instances.start_instance(ctx, SYSTEM, "two_ballots", {})
    ballots = _ballots(view)
    lock = _held_write_lock(ctx)
    with lock:
        thread, outcome = _in_thread(
            lambda: tasks.complete_task(ctx, vera, ballots["Task_BallotA"], {"vote_a": "a"})
        )
        assert thread.is_alive() and outcome == []
        tasks.complete_task(ctx, vlad, ballots["Task_BallotB"], {"vote_b": "b"})  # the lock re-enters
    thread.join(timeout=30)
    assert outcome and outcome[0]["status"] == "complete", outcome
    final = instances.get_instance(ctx, SYSTEM, view["id"])
    assert (final["data"]["vote_a"], final["data"]["vote_b"]) == ("a", "b")


def test_a_claim_made_while_a_completion_waits_for_the_lock_is_respected(ctx, voters):
    vera, vlad = voters
    view = instances.start_instance(ctx, SYSTEM, "two_ballots", {})
    ballot = _ballots(view)["Task_BallotA"]
    with _held_write_lock(ctx):
        thread, outcome = _in_thread(lambda: tasks.complete_task(ctx, vera, ballot, {"vote_a": "a"}))
        tasks.claim_task(ctx, vlad, ballot)
    thread.join(timeout=30)
    assert len(outcome) == 1 and isinstance(outcome[0], Forbidden), outcome
    assert instances.get_instance(ctx, SYSTEM, view["id"])["status"] == "running"


def test_kept_task_rows_that_are_out_of_date_never_refuse_what_the_database_allows(ctx, voters):
    """This process keeps ballot B's row as claimed by vera; vera releases it through another
    route; vlad's completion, refused by the kept row, is decided by the database instead."""
    vera, vlad = voters
    view = instances.start_instance(ctx, SYSTEM, "two_ballots", {})
    ballots = _ballots(view)
    tasks.claim_task(ctx, vera, ballots["Task_BallotB"])
    tasks.complete_task(ctx, vera, ballots["Task_BallotA"], {"vote_a": "a"})  # keeps B as claimed
    kept = ctx.workflows.peek_task(ballots["Task_BallotB"])
    assert kept is not None and kept.tasks[ballots["Task_BallotB"]].assignee_id == vera.user_id
    tasks.unclaim_task(ctx, vera, ballots["Task_BallotB"])  # changes the row, not what is kept
    done = tasks.complete_task(ctx, vlad, ballots["Task_BallotB"], {"vote_b": "b"})
    assert done["status"] == "complete"
    final = instances.get_instance(ctx, SYSTEM, view["id"])
    assert (final["data"]["vote_a"], final["data"]["vote_b"]) == ("a", "b")


def test_a_version_deployed_by_another_process_is_the_one_new_instances_start_on(ctx, other_process, voters):
    first = instances.start_instance(ctx, SYSTEM, "two_ballots", {})
    assert first["version"] == 1
    changed = {
        name: content + b"\n<!-- the second version -->\n"
        for name, content in read_fixture("two_ballots.bpmn").items()
    }
    assert deployments.deploy(other_process, SYSTEM, changed).version == 2
    second = instances.start_instance(ctx, SYSTEM, "two_ballots", {})
    assert second["version"] == 2
