"""A process-level start form: defaults fill missing fields, invalid start data starts nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.db.models import ProcessInstance
from app.errors import InvalidInput
from app.services.modelling import deployments
from app.services.people import users
from app.services.people.users import SYSTEM
from app.services.running import instances
from app.settings import PROJECT_ROOT


@pytest.fixture
def shipped(ctx):
    users.ensure_groups(ctx, users.PROCEDURE_GROUPS)
    deployments.deploy_folders(ctx, SYSTEM, PROJECT_ROOT / "bpmn", PROJECT_ROOT / "forms")


def _instance_count(ctx) -> int:
    with ctx.uow() as uow:
        return uow.session.scalar(select(func.count(ProcessInstance.id)))


def test_missing_required_start_data_is_refused_per_field_and_starts_nothing(ctx, shipped):
    with pytest.raises(InvalidInput) as refused:
        instances.start_instance(ctx, SYSTEM, "deputy_rotation", {"term_months": 0})
    assert {d["field"] for d in refused.value.details} == {"$.term_end", "$.term_months"}
    assert _instance_count(ctx) == 0


def test_defaults_of_the_start_form_fill_missing_fields(ctx, shipped):
    view = instances.start_instance(ctx, SYSTEM, "deputy_rotation", {"term_end": "2026-09-30"})
    assert view["status"] == "running", view["error"]
    assert view["data"]["term_months"] == 12
    assert view["data"]["current_deputies"] == []
    assert [t["name"] for t in view["tasks"]] == ["Task_CollectNominations"]
