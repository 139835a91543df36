"""(b) Inbox query: 100,000 open human tasks seeded straight into the real tables, one user who
sees exactly 1,000 of them, and the latency of GET /api/v1/tasks and of the web inbox page
(GET /inbox, server-rendered, after the real web sign-in) through the real server."""

from __future__ import annotations

import random
import re
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from .client import WebClient
from .server import HOST, Server
from .stats import summarize_ms

INBOX_USER = "inbox.user"
PEER_USER = "inbox.peer"
PASSWORD = "inbox-password-1"
MODEL_ID = "bench_inbox"
GROUPS = 100  # the user's group and 99 others
VISIBLE = 1000  # unassigned tasks in the user's group: what scope=available must show
CLAIMED = 50  # tasks of the user's group claimed by the user: what scope=mine must show
PEER_CLAIMED = 200  # tasks of the user's group claimed by a colleague: visible to neither scope
OTHER_USERS = 20
OTHERS_ASSIGNED_SHARE = 0.10  # share of the other groups' tasks claimed by someone
TASKS_PER_INSTANCE = 4
CHUNK = 5000


def group_name(index: int) -> str:
    return f"inbox_g{index:03d}"


def _live_table(conn: Any, table: Any) -> Any:
    """The model's table cut down to the columns the migrated database really has, so that a model
    column whose migration is not written yet does not break the seeding (types and defaults kept)."""
    from sqlalchemy import MetaData, Table, inspect

    present = {c["name"] for c in inspect(conn).get_columns(table.name)}
    missing_required = [
        c["name"]
        for c in inspect(conn).get_columns(table.name)
        if c["name"] not in table.c and not c["nullable"] and c.get("default") is None
    ]
    if missing_required:
        raise RuntimeError(f"table {table.name} has required columns the models lack: {missing_required}")
    return Table(table.name, MetaData(), *[c._copy() for c in table.c if c.name in present])


def seed(url: str, total_tasks: int, rng_seed: int = 20261123) -> dict[str, Any]:
    """Bulk insert (SQLAlchemy core) users, groups, memberships, a model and version, instances and
    `total_tasks` open human tasks; returns what was inserted and how long it took."""
    from sqlalchemy import func, select, text
    from werkzeug.security import generate_password_hash

    from app.db.models import (
        Group,
        HumanTask,
        Membership,
        ProcessInstance,
        ProcessModel,
        ProcessVersion,
        User,
    )
    from app.db.session import make_engine

    if total_tasks < VISIBLE + CLAIMED + PEER_CLAIMED + (GROUPS - 1):
        raise ValueError(f"--tasks must be at least {VISIBLE + CLAIMED + PEER_CLAIMED + GROUPS - 1}")
    rng = random.Random(rng_seed)
    started = time.perf_counter()
    engine = make_engine(url)
    now = datetime.now(UTC)
    password_hash = generate_password_hash(PASSWORD)
    try:
        with engine.begin() as conn:
            users_t, groups_t, members_t, models_t, versions_t, instances_t, tasks_t = (
                _live_table(conn, model.__table__)
                for model in (
                    User,
                    Group,
                    Membership,
                    ProcessModel,
                    ProcessVersion,
                    ProcessInstance,
                    HumanTask,
                )
            )
            base_user = (conn.scalar(select(func.max(users_t.c.id))) or 0) + 1
            base_group = (conn.scalar(select(func.max(groups_t.c.id))) or 0) + 1
            base_instance = (conn.scalar(select(func.max(instances_t.c.id))) or 0) + 1
            base_version = (conn.scalar(select(func.max(versions_t.c.id))) or 0) + 1

            usernames = [INBOX_USER, PEER_USER] + [f"inbox.other{i:02d}" for i in range(OTHER_USERS)]
            user_ids = {name: base_user + i for i, name in enumerate(usernames)}
            conn.execute(
                users_t.insert(),
                [
                    {
                        "id": uid,
                        "username": name,
                        "password_hash": password_hash,
                        "display_name": name,
                        "language": "en",
                        "is_admin": False,
                        "is_active": True,
                        "created_at": now,
                    }
                    for name, uid in user_ids.items()
                ],
            )
            group_ids = {group_name(i): base_group + i for i in range(GROUPS)}
            conn.execute(
                groups_t.insert(),
                [{"id": gid, "name": name, "title": name} for name, gid in group_ids.items()],
            )
            memberships = [
                {"user_id": user_ids[INBOX_USER], "group_id": group_ids[group_name(0)], "is_lead": False},
                {"user_id": user_ids[PEER_USER], "group_id": group_ids[group_name(0)], "is_lead": False},
            ]
            others = usernames[2:]
            for i in range(1, GROUPS):  # each other group gets two of the other users
                for name in (others[i % len(others)], others[(i * 7 + 3) % len(others)]):
                    row = {"user_id": user_ids[name], "group_id": group_ids[group_name(i)], "is_lead": False}
                    if row not in memberships:
                        memberships.append(row)
            conn.execute(members_t.insert(), memberships)

            conn.execute(
                models_t.insert(),
                [{"id": MODEL_ID, "name": "Inbox benchmark", "latest_version": 1, "created_at": now}],
            )
            conn.execute(
                versions_t.insert(),
                [
                    {
                        "id": base_version,
                        "model_id": MODEL_ID,
                        "version": 1,
                        "content_hash": "0" * 64,
                        "specs_json": "{}",
                        "legal_basis": "",
                        "in_force_from": None,
                        "in_force_to": None,
                        "metadata_json": {},
                        "start_messages": [],
                        "deployed_by": "bench",
                        "deployed_at": now,
                    }
                ],
            )

            n_instances = -(-total_tasks // TASKS_PER_INSTANCE)
            for start in range(0, n_instances, CHUNK):
                conn.execute(
                    instances_t.insert(),
                    [
                        {
                            "id": base_instance + i,
                            "model_id": MODEL_ID,
                            "version_id": base_version,
                            "status": "running",
                            "state_json": "{}",
                            "data": {"i": i},
                            "element_states": {},
                            "error_element": None,
                            "error_message": None,
                            "started_by": "bench",
                            "created_at": now,
                            "updated_at": now,
                            "row_version": 1,
                        }
                        for i in range(start, min(start + CHUNK, n_instances))
                    ],
                )

            # (group index, assignee) for every task, then shuffled over instances and time.
            plan: list[tuple[int, int | None]] = []
            plan += [(0, None)] * VISIBLE
            plan += [(0, user_ids[INBOX_USER])] * CLAIMED
            plan += [(0, user_ids[PEER_USER])] * PEER_CLAIMED
            rest = total_tasks - len(plan)
            for k in range(rest):
                group = 1 + k % (GROUPS - 1)
                assignee = None
                if rng.random() < OTHERS_ASSIGNED_SHARE:
                    assignee = user_ids[others[group % len(others)]]
                plan.append((group, assignee))
            rng.shuffle(plan)
            span = 90 * 24 * 3600
            for start in range(0, len(plan), CHUNK):
                rows = []
                for k in range(start, min(start + CHUNK, len(plan))):
                    group, assignee = plan[k]
                    created = now - timedelta(seconds=rng.randrange(span))
                    rows.append(
                        {
                            "id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                            "instance_id": base_instance + k // TASKS_PER_INSTANCE,
                            "model_id": MODEL_ID,
                            "element_id": f"Task_{k % TASKS_PER_INSTANCE}",
                            "name": f"Step {k % TASKS_PER_INSTANCE}",
                            "titles": {"en": f"Step {k % TASKS_PER_INSTANCE}", "kk": "Қадам", "ru": "Шаг"},
                            "lane": group_name(group),
                            "group_name": group_name(group),
                            "assignee_id": assignee,
                            "form_schema": None,
                            "form_ui_schema": None,
                            "instructions": None,
                            "created_at": created,
                            "due_at": created + timedelta(days=30) if k % 3 == 0 else None,
                        }
                    )
                conn.execute(tasks_t.insert(), rows)

            if engine.dialect.name == "postgresql":
                for table, column in (
                    ("users", "id"),
                    ("groups", "id"),
                    ("memberships", "id"),
                    ("process_versions", "id"),
                    ("process_instances", "id"),
                ):
                    conn.execute(
                        text(
                            f"SELECT setval(pg_get_serial_sequence('{table}', '{column}'), "
                            f"(SELECT max({column}) FROM {table}))"
                        )
                    )
        inserted = time.perf_counter() - started
        # Fresh statistics, as autovacuum (PostgreSQL) or a maintenance ANALYZE (SQLite) would give.
        with engine.begin() as conn:
            conn.execute(text("ANALYZE"))
    finally:
        engine.dispose()
    return {
        "tasks": total_tasks,
        "instances": n_instances,
        "groups": GROUPS,
        "users": len(usernames),
        "visible_available": VISIBLE,
        "visible_mine": CLAIMED,
        "insert_seconds": round(inserted, 2),
        "seconds_with_analyze": round(time.perf_counter() - started, 2),
    }


def _count_all(client: Any, scope: str) -> int:
    """Page through a scope with the largest page the service allows."""
    total, offset = 0, 0
    while True:
        page = client.get(f"/api/v1/tasks?scope={scope}&limit=1000&offset={offset}")["tasks"]
        total += len(page)
        if len(page) < 1000:
            return total
        offset += 1000


def time_inbox(server: Server, requests: int, warmup: int = 20) -> dict[str, Any]:
    """Latency of the inbox queries for the seeded user, sequential on one keep-alive connection."""
    queries = {
        "available": "/api/v1/tasks?scope=available",
        "mine": "/api/v1/tasks?scope=mine",
        "available_limit_1000": "/api/v1/tasks?scope=available&limit=1000",
    }
    with server.client() as client:
        client.sign_in(INBOX_USER, PASSWORD)
        counts = {"available": _count_all(client, "available"), "mine": _count_all(client, "mine")}
        results: dict[str, Any] = {"total_visible": counts}
        for name, path in queries.items():
            for _ in range(warmup):
                client.get(path)
            samples, rows = [], 0
            for _ in range(requests):
                t0 = time.perf_counter()
                body = client.get(path)
                samples.append(time.perf_counter() - t0)
                rows = len(body["tasks"])
            results[name] = {"path": path, "rows_returned": rows, **summarize_ms(samples)}
    results["default_page_size"] = results["available"]["rows_returned"]
    return results


PAGE_VIEWS = {"available": "/inbox?scope=available", "mine": "/inbox?scope=mine"}
PAGE_SIZE = 25  # the inbox page's default per_page
TAB_COUNT = {
    "mine": re.compile(r'href="/inbox\?scope=mine"[^>]*>[^<]*<span class="count">\((\d+)\)</span>'),
    "available": re.compile(r'href="/inbox\?scope=available"[^>]*>[^<]*<span class="count">\((\d+)\)</span>'),
}
TOTAL = re.compile(r'id="task-total">(\d+) tasks?</p>')
ROW = re.compile(r'<tr class="[^"]*" data-task-id="')


def check_page(view: str, status: int, text: str) -> dict[str, int]:
    """What the inbox page shows (the tab counts, the total, the rows); raises unless it is the
    inbox listing exactly the seeded tasks of the view, so that no error or sign-in page is timed."""
    if status != 200:
        raise RuntimeError(f"GET {PAGE_VIEWS[view]} -> HTTP {status}: {text[:300]!r}")
    shown: dict[str, int] = {}
    for name, pattern in (*TAB_COUNT.items(), ("total", TOTAL)):
        found = pattern.search(text)
        if not found:
            raise RuntimeError(f"GET {PAGE_VIEWS[view]}: no {name} count on the page: {text[:300]!r}")
        shown[name] = int(found.group(1))
    shown["rows"] = len(ROW.findall(text))
    expected = {"available": VISIBLE, "mine": CLAIMED}
    wanted = {**expected, "total": expected[view], "rows": min(PAGE_SIZE, expected[view])}
    if shown != wanted:
        raise RuntimeError(f"GET {PAGE_VIEWS[view]} shows {shown}, expected {wanted}")
    return shown


def time_inbox_page(server: Server, requests: int, warmup: int = 20) -> dict[str, Any]:
    """Latency of the server-rendered inbox page for the seeded user, signed in through the web
    sign-in form (CSRF token, session cookie), sequential on one keep-alive connection."""
    results: dict[str, Any] = {}
    with WebClient(HOST, server.port) as client:
        location = client.sign_in_web(INBOX_USER, PASSWORD)
        results["sign_in"] = {"redirect": location, "cookies": sorted(client.cookies)}
        for view, path in PAGE_VIEWS.items():
            status, _, text = client.page("GET", path)
            shown = check_page(view, status, text)
            for _ in range(warmup):
                client.page("GET", path)
            samples, size = [], 0
            for _ in range(requests):
                t0 = time.perf_counter()
                status, _, text = client.page("GET", path)
                samples.append(time.perf_counter() - t0)
                check_page(view, status, text)  # every timed answer, outside the timing
                size = len(text.encode())
            results[view] = {
                "path": path,
                "rows_on_page": shown["rows"],
                "count_shown": shown["total"],
                "tab_counts": {"mine": shown["mine"], "available": shown["available"]},
                "page_bytes": size,
                **summarize_ms(samples),
            }
    return results
