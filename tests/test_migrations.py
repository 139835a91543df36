"""The Alembic migrations produce exactly the schema the models describe."""

from __future__ import annotations

import dataclasses

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from app.db.base import Base
from app.db.session import make_engine


def test_migrations_match_the_models(database_url):
    engine = make_engine(database_url)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    engine.dispose()
    assert differences == []


def test_migrated_database_has_every_table(database_url):
    from sqlalchemy import inspect

    engine = make_engine(database_url)
    tables = set(inspect(engine).get_table_names())
    engine.dispose()
    assert set(Base.metadata.tables) <= tables


def test_a_database_of_the_previous_release_upgrades_with_its_instances(ctx, database_url):
    """Data written, the schema taken back to the previous release's (0007), then upgraded: the
    ended instances get their end and cycle time, and the running one goes on to its end."""
    from sqlalchemy import select

    from app.db.migrate import downgrade, upgrade
    from app.db.models import CompletionTime, ProcessInstance
    from app.services.context import WorkflowCache
    from app.services.modelling import deployments
    from app.services.people.users import SYSTEM
    from app.services.running import instances
    from app.services.work import tasks
    from tests.conftest import APPROVAL, make_user, read_fixture

    rita = make_user(ctx, "rita", ["reviewers"])
    deployments.deploy(ctx, SYSTEM, read_fixture(*APPROVAL))
    done, waiting = (
        instances.start_instance(ctx, SYSTEM, "approval", {"subject": "S", "divisor": 4}) for _ in "ab"
    )
    tasks.complete_task(ctx, rita, done["tasks"][0]["id"], {"approved": True, "comment": "ok"})
    engine = make_engine(database_url)
    try:
        downgrade(engine, "0007")
        with engine.connect() as connection:
            assert MigrationContext.configure(connection).get_current_revision() == "0007"
    finally:
        upgrade(engine)
    engine.dispose()
    with ctx.uow() as uow:
        ended = uow.session.get(ProcessInstance, done["id"])
        assert ended.ended_at == ended.updated_at
        [cycle] = uow.session.scalars(select(CompletionTime).where(CompletionTime.instance_id == done["id"]))
        assert cycle.element_id is None and cycle.seconds >= 0
    restarted = dataclasses.replace(ctx, workflows=WorkflowCache())  # nothing kept from before
    finished = tasks.complete_task(
        restarted, rita, waiting["tasks"][0]["id"], {"approved": True, "comment": "ok"}
    )
    assert finished["status"] == "complete"
