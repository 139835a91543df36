"""Finding instances: each filter, the business key and searchable values kept from the data, and
(on PostgreSQL) an index serving the search by value."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import text

from app.errors import InvalidInput
from app.services.modelling import deployments
from app.services.people.users import SYSTEM
from app.services.running import instance_search, instances
from app.services.work import tasks
from tests.conftest import APPROVAL, START, make_user, read_fixture

KEYED = (
    '<spiffworkflow:property name="business_key" value="subject"/>\n'
    '        <spiffworkflow:property name="searchable" value="subject,divisor"/>\n'
    '        <spiffworkflow:property name="title_en"'
)


def _deploy_keyed(ctx, title: str = "Approval") -> None:
    files = read_fixture(*APPROVAL)
    xml = files["approval.bpmn"].decode().replace('<spiffworkflow:property name="title_en"', KEYED, 1)
    files["approval.bpmn"] = xml.replace('value="Approval"/>', f'value="{title}"/>', 1).encode()
    deployments.deploy(ctx, SYSTEM, files)


def ids(ctx, actor=SYSTEM, **filters) -> list[int]:
    return [row["id"] for row in instance_search.list_instances(ctx, actor, **filters)]


def test_each_filter(ctx, clock):
    rita = make_user(ctx, "rita", ["reviewers"])
    _deploy_keyed(ctx)
    first = instances.start_instance(ctx, rita, "approval", {"subject": "A-1", "divisor": 4})["id"]
    clock.advance(timedelta(days=2))
    _deploy_keyed(ctx, title="Approval v2")  # version 2
    second = instances.start_instance(ctx, SYSTEM, "approval", {"subject": "B-2", "divisor": 5})["id"]
    clock.advance(timedelta(days=1))
    third = instances.start_instance(ctx, SYSTEM, "approval", {"subject": "A-1", "divisor": 4})["id"]
    instances.cancel_instance(ctx, SYSTEM, third)

    assert ids(ctx) == [third, second, first]
    assert ids(ctx, sort="oldest") == [first, second, third]
    assert ids(ctx, status="cancelled") == [third]
    assert ids(ctx, version=1) == [first] and ids(ctx, model_id="approval", version=2) == [third, second]
    assert ids(ctx, started_by="rita") == [first]
    day = START.date()  # 10:00 in Almaty that day
    assert ids(ctx, started_from=day, started_to=day) == [first]
    assert ids(ctx, started_from=day + timedelta(days=2)) == [third, second]
    assert ids(ctx, ended_from=day + timedelta(days=3)) == [third]
    assert ids(ctx, ended_to=day + timedelta(days=2)) == []
    # Days at the ends of the calendar are bounds like any other, not an overflow
    assert ids(ctx, started_from=date.min, ended_to=date.max) == [third]
    assert ids(ctx, started_to=date(10, 1, 1)) == [] and ids(ctx, started_to=date.max) == [
        third,
        second,
        first,
    ]
    assert ids(ctx, business_key="A-1") == [third, first]
    assert ids(ctx, field="divisor", value="5") == [second]
    assert ids(ctx, field="subject", value="A-1", status="running") == [first]
    assert instances.get_instance(ctx, SYSTEM, second)["business_key"] == "B-2"
    assert ids(ctx, rita, business_key="B-2") == [second]  # she reads the process: a lane of hers
    assert ids(ctx, make_user(ctx, "otto", ["others"])) == []
    for refused in ({"status": "paused"}, {"sort": "random"}, {"field": "subject"}):
        with pytest.raises(InvalidInput):
            ids(ctx, **refused)


def test_the_key_and_values_follow_the_data(ctx, clock):
    rita = make_user(ctx, "rita", ["reviewers"])
    _deploy_keyed(ctx)
    view = instances.start_instance(ctx, SYSTEM, "approval", {"divisor": 4})
    assert view["business_key"] is None  # no subject yet
    assert ids(ctx, field="divisor", value="4") == [view["id"]]
    tasks.complete_task(ctx, rita, view["tasks"][0]["id"], {"approved": True, "comment": "ok"})
    assert ids(ctx, field="divisor", value="4") == [view["id"]]  # kept through each save
    assert ids(ctx, field="comment", value="ok") == []  # not listed as searchable


def test_the_search_by_value_uses_its_index_on_postgresql(ctx, clock):
    with ctx.uow() as uow:
        if uow.session.get_bind().dialect.name != "postgresql":
            pytest.skip("query plans are checked on PostgreSQL")
        uow.session.execute(text("SET LOCAL enable_seqscan = off"))
        plan = "\n".join(
            row[0]
            for row in uow.session.execute(
                text(
                    "EXPLAIN SELECT instance_id FROM instance_values "
                    "WHERE name = 'registration_number' AND value = 'A-7'"
                )
            )
        )
    assert "ix_instance_values_name_value" in plan or "pk_instance_values" in plan, plan
