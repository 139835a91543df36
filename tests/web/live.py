"""A real server on 127.0.0.1 (werkzeug in a thread, SQLite file) and headless Debian Chromium."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from werkzeug.serving import make_server

from app import create_app
from app.db.migrate import upgrade
from app.db.session import make_engine
from app.services.context import ServiceContext
from app.services.modelling import deployments
from app.services.people import users
from app.services.people.users import SYSTEM
from app.services.running import instances
from app.services.work import tasks
from app.settings import Settings
from tests.conftest import make_user
from tests.web.conftest import seed

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"


@dataclass
class LiveServer:
    url: str
    ctx: ServiceContext
    ids: dict[str, Any] = field(default_factory=dict)


def _council_poll(ctx: ServiceContext, ids: dict[str, Any]) -> None:
    """Deploy bpmn/council_poll.bpmn and open a poll with a ballot for alice and dave."""
    make_user(ctx, "chair", ["chairman"])
    make_user(ctx, "dave", ["council"])
    users.set_group_members(ctx, SYSTEM, "council", ["alice", "dave"])
    bundles = dict(deployments.bundles_in_folders(ROOT / "bpmn", ROOT / "forms"))
    deployments.deploy(ctx, SYSTEM, bundles["council_poll"], process_id="council_poll")
    carol = users.actor_for(ctx, "carol")
    started = instances.start_instance(ctx, carol, "council_poll", {})
    ids["poll_instance_id"] = started["id"]
    prepare = started["tasks"][0]["id"]
    deadline = (datetime.now(UTC) + timedelta(days=3)).isoformat()
    tasks.complete_task(
        ctx,
        carol,
        prepare,
        {
            "poll_question": "Adopt the address?",
            "poll_description": "Draft attached.",
            "poll_deadline": deadline,
            "convened_by": "deputy_chairmen",
            "convening_reference": "Proposal No. 1",
        },
    )
    chair = users.actor_for(ctx, "chair")
    agreement = tasks.list_tasks(ctx, chair, scope="available")[0]["id"]
    tasks.complete_task(ctx, chair, agreement, {"chairman_decision": "agree"})
    alice = users.actor_for(ctx, "alice")
    ballots = [
        t
        for scope in ("mine", "available")
        for t in tasks.list_tasks(ctx, alice, scope=scope)
        if t["name"] == "Task_CastBallot"
    ]
    ids["ballot_id"] = ballots[0]["id"] if ballots else None


def _appeal(ctx: ServiceContext, ids: dict[str, Any]) -> None:
    """Deploy bpmn/appeal.bpmn and open an appeal to register, for the registrar."""
    make_user(ctx, "registrar", ["secretariat"])
    make_user(ctx, "head", ["secretariat_head"])
    make_user(ctx, "deputy", ["secretariat_deputy_head"])
    bundles = dict(deployments.bundles_in_folders(ROOT / "bpmn", ROOT / "forms"))
    deployments.deploy(ctx, SYSTEM, bundles["appeal"], process_id="appeal")
    started = instances.start_instance(ctx, users.actor_for(ctx, "registrar"), "appeal", {})
    ids["appeal_register_task"] = started["tasks"][0]["id"]


def every_page(live: LiveServer) -> dict[str, str]:
    """Every page of the application as the seeded live server has it, by a name for reports."""
    pages = {
        "inbox-all": "/inbox?scope=all",
        "inbox-mine": "/inbox?scope=mine",
        "task": f"/tasks/{live.ids['task_id']}",
        "appeal-registration": f"/tasks/{live.ids['appeal_register_task']}",
        "instance": f"/instances/{live.ids['instance_id']}",
        "start": "/start",
        "timers": "/timers",
        "incidents": "/incidents",
        "instances": "/instances",
        "users": "/users",
        "calendar": "/calendar",
        "sandbox": "/sandbox",
        "rotation": "/rotation",
        "reports": "/reports",
        "models": "/models",
        "model": "/models/approval",
        "not-found": "/tasks/00000000-0000-0000-0000-000000000000",
    }
    if live.ids.get("poll_instance_id"):
        pages["poll"] = f"/instances/{live.ids['poll_instance_id']}"
    return pages


def serve(tmp: Path) -> Iterator[LiveServer]:
    url = f"sqlite:///{tmp / 'web.sqlite3'}"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    settings = Settings(
        database_url=url, secret_key="browser-tests", bpmn_dir=ROOT / "bpmn", forms_dir=ROOT / "forms"
    )
    app = create_app(settings)
    ctx: ServiceContext = app.extensions["services"]
    now = datetime.now(UTC)
    ids = seed(ctx, now=now)
    late = instances.start_instance(
        ctx,
        SYSTEM,
        "approval",
        {"subject": "Late report", "review_due": (now - timedelta(days=2)).isoformat(), "divisor": 2},
    )
    ids["late_instance_id"] = late["id"]
    ids["late_task_id"] = late["tasks"][0]["id"]
    try:
        _council_poll(ctx, ids)
    except Exception as exc:  # noqa: BLE001 - bpmn/ is being written elsewhere; the ballot test skips
        ids["ballot_error"] = repr(exc)
        ids["ballot_id"] = None
    _appeal(ctx, ids)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield LiveServer(f"http://127.0.0.1:{server.server_port}", ctx, ids)
    finally:
        server.shutdown()
        thread.join(timeout=5)
        app.extensions["db_engine"].dispose()
