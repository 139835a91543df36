"""Administering people: groups and leads replaced, a new password, deactivation releasing claims
and reporting ballots reserved for the person, reactivation."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from app.db.models import HumanTask
from app.errors import Forbidden, InvalidInput, Unauthorized
from app.services.modelling import deployments
from app.services.people import administration, users
from app.services.people.users import SYSTEM
from app.services.running import instances
from app.services.work import tasks
from tests.conftest import APPROVAL, make_user, read_fixture


def test_groups_leads_and_password(ctx):
    admin = make_user(ctx, "ada", ["admins"])
    make_user(ctx, "rita", ["reviewers"])
    users.ensure_groups(ctx, {"secretariat": "Secretariat"})
    view = administration.set_memberships(ctx, admin, "rita", ["secretariat"], ["reviewers"])
    assert (view["groups"], view["leads"]) == (["reviewers", "secretariat"], ["reviewers"])
    assert users.actor_for(ctx, "rita").lead_of == frozenset({"reviewers"})
    with pytest.raises(InvalidInput):
        administration.set_memberships(ctx, admin, "rita", ["no_such_group"], [])
    with pytest.raises(InvalidInput):
        administration.set_password(ctx, admin, "rita", "short")
    administration.set_password(ctx, admin, "rita", "a-new-password")
    assert users.authenticate(ctx, "rita", "a-new-password").username == "rita"
    with pytest.raises(Forbidden):
        administration.set_password(ctx, users.actor_for(ctx, "rita"), "ada", "another-password")


def test_deactivation_releases_claims_and_reports_reserved_ballots(ctx):
    admin = make_user(ctx, "ada", ["admins"])
    rita = make_user(ctx, "rita", ["reviewers"])
    deployments.deploy(ctx, SYSTEM, read_fixture(*APPROVAL))
    claimed, reserved = (
        instances.start_instance(ctx, SYSTEM, "approval", {"subject": s, "divisor": 4})["tasks"][0]["id"]
        for s in ("claimed", "reserved")
    )
    tasks.claim_task(ctx, rita, claimed)
    tasks.claim_task(ctx, rita, reserved)
    with ctx.uow(write=True) as uow:  # as a poll reserves a ballot for its member
        uow.session.execute(update(HumanTask).where(HumanTask.id == reserved).values(reserved=True))
        uow.commit()
    result = administration.set_active(ctx, admin, "rita", False)
    assert (result["released"], result["reserved"]) == ([claimed], [reserved])
    assert tasks.get_task(ctx, admin, claimed)["assignee"] is None
    assert [r["task_id"] for r in administration.reserved_for_inactive(ctx, admin)] == [reserved]
    with pytest.raises(Unauthorized):
        users.authenticate(ctx, "rita", "password123")
    administration.set_active(ctx, admin, "rita", True)
    assert users.authenticate(ctx, "rita", "password123").username == "rita"
    assert administration.reserved_for_inactive(ctx, admin) == []
