"""The command line, through Flask's CLI runner against a real database."""

from __future__ import annotations

import dataclasses
import shutil

import pytest

from app import create_app
from app.errors import Forbidden
from app.services.people import users
from tests.conftest import FIXTURES


def test_users_deploy_token_and_instances(app, tmp_path):
    for name in ("approval.bpmn", "approval_review.schema.json", "approval_review.uischema.json"):
        shutil.copy(FIXTURES / name, tmp_path / name)
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=[
            "users",
            "create",
            "rita",
            "--password",
            "password123",
            "--group",
            "reviewers",
            "--group",
            "voters",
            "--group",
            "analysts",
        ]
    )
    assert result.exit_code == 0, result.output
    assert runner.invoke(args=["users", "set-group", "auditors", "rita"]).exit_code == 0

    deploy = ["deploy", str(tmp_path), "--forms", str(tmp_path)]
    result = runner.invoke(args=deploy)
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "approval: version 1 (new version)"
    assert "approval: version 1 (unchanged)" in runner.invoke(args=deploy).output

    token = runner.invoke(args=["users", "token", "rita"]).output.strip()
    ctx = app.extensions["services"]
    assert users.actor_from_token(ctx, token).username == "rita"

    listing = runner.invoke(args=["users", "list"]).output
    assert "rita" in listing and "auditors" in listing
    assert runner.invoke(args=["instances"]).exit_code == 0


def test_deploy_failure_prints_every_problem_and_exits_non_zero(app, tmp_path):
    (tmp_path / "broken.bpmn").write_text("<bpmn:definitions")
    result = app.test_cli_runner().invoke(args=["deploy", str(tmp_path), "--forms", str(tmp_path)])
    assert result.exit_code != 0
    assert "malformed XML" in result.output and "broken.bpmn" in result.output


def test_setup_creates_admin_from_admin_password(settings, clock, tmp_path):
    empty_bpmn = tmp_path / "bpmn"
    empty_bpmn.mkdir()
    application = create_app(
        dataclasses.replace(settings, admin_password="first-admin-pw", bpmn_dir=empty_bpmn), clock=clock
    )
    result = application.test_cli_runner().invoke(args=["setup", "--no-demo"])
    assert result.exit_code == 0, result.output
    assert "administrator 'admin' created" in result.output
    actor = users.authenticate(application.extensions["services"], "admin", "first-admin-pw")
    assert actor.is_admin
    again = application.test_cli_runner().invoke(args=["setup", "--no-demo"])
    assert "administrator 'admin' created" not in again.output
    application.extensions["db_engine"].dispose()


def test_setup_deploys_the_shipped_procedures_and_demo_data(settings, clock):
    from app.settings import PROJECT_ROOT

    shipped = dataclasses.replace(settings, bpmn_dir=PROJECT_ROOT / "bpmn", forms_dir=PROJECT_ROOT / "forms")
    application = create_app(shipped, clock=clock)
    runner = application.test_cli_runner()
    result = runner.invoke(args=["setup"])
    assert result.exit_code == 0, result.output
    for model in ("appeal", "council_poll", "deputy_rotation", "policy_document"):
        assert f"{model}: version 1 (new version)" in result.output
    assert "demo users created; every demo user's password is: demo-assembly-2026" in result.output
    assert "8 demo instances started" in result.output
    ctx = application.extensions["services"]
    council = users.actor_for(ctx, "council01")
    from app.services.work import tasks

    # Each ballot is reserved for its own member, not offered to the whole Council.
    assert tasks.list_tasks(ctx, council, scope="available") == []
    [ballot] = tasks.list_tasks(ctx, council, scope="mine")
    assert (ballot["name"], ballot["assignee"], ballot["reserved"]) == ("Task_CastBallot", "council01", True)
    with pytest.raises(Forbidden):
        tasks.unclaim_task(ctx, council, ballot["id"])
    with pytest.raises(Forbidden):
        tasks.complete_task(ctx, users.actor_for(ctx, "council02"), ballot["id"], {"vote": "for"})
    # a second run changes nothing
    again = runner.invoke(args=["setup"])
    assert again.exit_code == 0, again.output
    assert "new version" not in again.output and "demo instances started" not in again.output
    application.extensions["db_engine"].dispose()


def test_translations_lists_what_a_catalogue_lacks(app, tmp_path):
    import json

    from app.settings import PROJECT_ROOT

    shutil.copy(PROJECT_ROOT / "bpmn" / "council_poll.bpmn", tmp_path / "council_poll.bpmn")
    catalogue = json.loads((PROJECT_ROOT / "bpmn" / "council_poll.translations.json").read_text())
    del catalogue["elements"]["Task_CastBallot"]["instructions"]["ru"]
    del catalogue["elements"]["Gateway_Method"]["name"]["kk"]
    (tmp_path / "council_poll.translations.json").write_text(json.dumps(catalogue))
    runner = app.test_cli_runner()
    result = runner.invoke(args=["translations", str(tmp_path)])
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        "council_poll.bpmn: Gateway_Method.name.kk",
        "council_poll.bpmn: Task_CastBallot.instructions.ru",
        "2 missing translation(s)",
    ]
    shipped = runner.invoke(args=["translations", str(PROJECT_ROOT / "bpmn")])
    assert shipped.exit_code == 0 and shipped.output == "0 missing translation(s)\n"
