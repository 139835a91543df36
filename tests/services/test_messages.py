"""Message routing by name and correlation values."""

from __future__ import annotations

import pytest

from app.errors import NotFound
from app.services.modelling import deployments
from app.services.people.users import SYSTEM
from app.services.running import instances, messages
from tests.conftest import read_fixture


@pytest.fixture
def waiting(ctx):
    deployments.deploy(ctx, SYSTEM, read_fixture("payment_wait.bpmn"))
    return [
        instances.start_instance(ctx, SYSTEM, "payment_wait", {"order_id": oid})
        for oid in ("A-1", "A-2", "A-2")
    ]


def test_message_reaches_only_instances_with_matching_correlation(ctx, waiting):
    assert all(w["status"] == "running" for w in waiting)
    delivered = messages.send_message(ctx, SYSTEM, "payment_received", {"order_id": "A-2"}, {"amount": 10})
    assert delivered == [waiting[1]["id"], waiting[2]["id"]]
    for instance in waiting[1:]:
        view = instances.get_instance(ctx, SYSTEM, instance["id"])
        assert view["status"] == "complete"
        assert view["data"]["payment"] == {"order_id": "A-2", "amount": 10}
    assert instances.get_instance(ctx, SYSTEM, waiting[0]["id"])["status"] == "running"


def test_message_nobody_waits_for_is_404_and_changes_nothing(ctx, waiting):
    with pytest.raises(NotFound):
        messages.send_message(ctx, SYSTEM, "payment_received", {"order_id": "Z-9"}, {})
    with pytest.raises(NotFound):
        messages.send_message(ctx, SYSTEM, "unknown_message", {}, {})
    assert {instances.get_instance(ctx, SYSTEM, w["id"])["status"] for w in waiting} == {"running"}
