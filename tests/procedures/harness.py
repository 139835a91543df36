"""Run a shipped process (bpmn/) step by step through the server's service layer.

Each `Harness` owns a real database (a copy of a migrated SQLite template into which the shipped
models were deployed once per session with `deployments.deploy_folders`), a `ServiceContext` whose
`ManualClock` is the process-wide clock while the harness is open (one harness at a time: closing
restores the SystemClock), and users in the lane groups, bulk-inserted. Steps go through the use
cases the API and the scheduler call: `instances.start_instance`, `tasks.list_tasks`,
`tasks.complete_task` (server-side form validation, the instance row lock, the audit log),
`timers.run_due`, `instances.get_instance` and `instances.history`. Only `ready(...)[i].data` and
the `where=` filter look inside the stored workflow (read-only), because no use case exposes a
task's own data.
"""

from __future__ import annotations

import atexit
import copy
import shutil
import tempfile
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cached_property
from pathlib import Path
from typing import Any
from uuid import UUID

from sqlalchemy import insert, select

from app.db.migrate import upgrade
from app.db.models import Group, Membership, ProcessInstance, User, WaitingTimer
from app.db.session import make_engine, make_session_factory
from app.engine.calendar import WorkingCalendar
from app.engine.clock import ManualClock, SystemClock, use_clock
from app.services.context import ServiceContext
from app.services.modelling import deployments
from app.services.people.users import PROCEDURE_GROUPS, SYSTEM, Actor, actor_for
from app.services.running import instance_store, instances
from app.services.time import timers
from app.services.work import tasks
from app.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
BPMN_DIR = ROOT / "bpmn"
FORMS_DIR = ROOT / "forms"
# The groups the shipped procedures have lanes for, as the application lists them.
LANE_GROUPS = tuple(PROCEDURE_GROUPS)
# One calendar for every harness: it caches each year's holidays and is thread-safe.
CALENDAR = WorkingCalendar()
# The scheduler's name in claims and in the audit log.
SCHEDULER = "procedure-tests"
# A bound on timer claims per `advance`, so that a timer the engine never sees due cannot hang a test.
MAX_TIMER_CLAIMS = 1000
# Bulk-inserted users cannot sign in: they act through `actor_for`, never with a password.
NO_PASSWORD = "!"


class InstanceFailed(AssertionError):
    """A step left the instance in the 'error' state (a script or expression of the diagram failed)."""

    def __init__(self, element_id: str | None, message: str | None) -> None:
        super().__init__(f"instance failed at {element_id}: {message}")
        self.element_id = element_id
        self.message = message


# --- the database template -----------------------------------------------------------------------------

_template_lock = threading.Lock()
_template_path: Path | None = None


def _settings(path: Path) -> Settings:
    return Settings(
        database_url=f"sqlite:///{path}",
        secret_key="procedure-tests",
        bpmn_dir=BPMN_DIR,
        forms_dir=FORMS_DIR,
    )


def _dispose(engine) -> None:  # noqa: ANN001 - a sqlalchemy Engine
    # Fold the write-ahead log into the database file so that a plain copy holds everything.
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()


def template_database() -> Path:
    """A migrated SQLite database holding the lane groups and the shipped models, deployed once per
    test session with `deploy_folders` (the deploy check needs the lane groups to exist)."""
    global _template_path
    with _template_lock:
        if _template_path is None:
            folder = Path(tempfile.mkdtemp(prefix="procedures-template-"))
            atexit.register(shutil.rmtree, folder, True)
            path = folder / "template.sqlite3"
            engine = make_engine(f"sqlite:///{path}")
            try:
                upgrade(engine)
                with engine.begin() as conn:
                    conn.execute(insert(Group), [{"name": g, "title": g} for g in LANE_GROUPS])
                ctx = ServiceContext(
                    make_session_factory(engine),
                    _settings(path),
                    clock=SystemClock(),
                    calendar=CALENDAR,
                )
                results = deployments.deploy_folders(ctx, SYSTEM, BPMN_DIR, FORMS_DIR)
                assert {r.model_id for r in results} >= {p.stem for p in BPMN_DIR.glob("*.bpmn")}
            finally:
                _dispose(engine)
            _template_path = path
        return _template_path


def default_member(group: str) -> str:
    return f"{group}.member"


# --- the harness ---------------------------------------------------------------------------------------


@dataclass
class ReadyTask:
    """A row of the inbox (`human_tasks`); `data` is the task's own data, read from the stored workflow."""

    harness: Harness = field(repr=False)
    id: str
    name: str
    lane: str | None
    group: str | None
    due_at: str | None

    @cached_property
    def data(self) -> dict[str, Any]:
        return self.harness.task_data([self.id])[self.id]


class Harness:
    """One process instance, driven through the service layer with a controlled clock."""

    def __init__(
        self,
        process_id: str,
        start_data: dict | None = None,
        groups: dict[str, list[str]] | None = None,
        now: str = "2026-03-02T10:00:00+05:00",
    ):
        self.groups = {g: list(m) for g, m in (groups or {}).items()}
        self.clock = ManualClock(datetime.fromisoformat(now))
        # What this harness submitted, in order, as the audit log should record it.
        self.completions: list[dict[str, Any]] = []
        self.folder = Path(tempfile.mkdtemp(prefix="procedure-"))
        self._actors: dict[str, Actor] = {}
        # Own data of READY tasks by task id. A READY task's data is fixed until it runs, so it is
        # read once (one workflow load for all ballots of a poll); dropped when the task is completed
        # here and on every `advance`.
        self._data_cache: dict[str, dict[str, Any]] = {}
        self._engine = None
        use_clock(self.clock)
        try:
            path = self.folder / "db.sqlite3"
            shutil.copy(template_database(), path)
            self._engine = make_engine(f"sqlite:///{path}")
            self.ctx = ServiceContext(
                make_session_factory(self._engine), _settings(path), clock=self.clock, calendar=CALENDAR
            )
            members = {g: self.groups.get(g) or [default_member(g)] for g in LANE_GROUPS}
            members.update({g: m for g, m in self.groups.items() if g not in members})
            self._add_members(members)
            view = instances.start_instance(self.ctx, SYSTEM, process_id, start_data or {})
            self.instance_id: int = view["id"]
            self._check(view)
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        use_clock(SystemClock())
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None
        shutil.rmtree(self.folder, ignore_errors=True)

    def __enter__(self) -> Harness:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def now(self) -> datetime:
        return self.clock.now()

    @now.setter
    def now(self, value: datetime) -> None:
        self.clock.set(value)

    # users
    def _add_members(self, members: dict[str, list[str]]) -> None:
        """Bulk-insert users, groups and memberships (users.create_user hashes a password each time)."""
        with self.ctx.uow(write=True) as uow:
            session = uow.session
            group_ids = _pairs(session, select(Group.name, Group.id))
            new_groups = [{"name": g, "title": g} for g in members if g not in group_ids]
            if new_groups:
                session.execute(insert(Group), new_groups)
                group_ids = _pairs(session, select(Group.name, Group.id))
            user_ids = _pairs(session, select(User.username, User.id))
            wanted = sorted({u for names in members.values() for u in names} - set(user_ids))
            if wanted:
                now = self.ctx.now()
                session.execute(
                    insert(User),
                    [
                        {
                            "username": u,
                            "password_hash": NO_PASSWORD,
                            "display_name": u,
                            "language": "ru",
                            "is_admin": False,
                            "is_active": True,
                            "created_at": now,
                        }
                        for u in wanted
                    ],
                )
                user_ids = _pairs(session, select(User.username, User.id))
            present = set(session.execute(select(Membership.user_id, Membership.group_id)))
            rows = [
                {"user_id": user_ids[u], "group_id": group_ids[g], "is_lead": False}
                for g, names in members.items()
                for u in dict.fromkeys(names)
                if (user_ids[u], group_ids[g]) not in present
            ]
            if rows:
                session.execute(insert(Membership), rows)
            uow.commit()
        self._actors.clear()

    def add_members(self, group: str, usernames: list[str]) -> None:
        """New members join `group` (in the database: what `group_members` reads from now on)."""
        self.groups.setdefault(group, []).extend(usernames)
        self._add_members({group: usernames})

    def actor(self, username: str) -> Actor:
        if username not in self._actors:
            self._actors[username] = actor_for(self.ctx, username)
        return self._actors[username]

    def members(self, group: str) -> list[str]:
        return self.groups.get(group) or [default_member(group)]

    # state
    def instance(self) -> dict[str, Any]:
        return instances.get_instance(self.ctx, SYSTEM, self.instance_id)

    def _check(self, view: dict[str, Any]) -> None:
        if view["status"] == "error":
            error = view.get("error") or {}
            raise InstanceFailed(error.get("element_id"), error.get("message"))

    def _row(self) -> ProcessInstance:
        with self.ctx.uow() as uow:
            row = uow.session.get(ProcessInstance, self.instance_id)
            assert row is not None
            uow.session.expunge(row)
            return row

    @property
    def status(self) -> str:
        return self.instance()["status"]

    @property
    def size(self) -> int:
        """Length of the stored workflow state (instance row's state_json)."""
        return len(self._row().state_json)

    def ready(self, spec_name: str | None = None, lane: str | None = None) -> list[ReadyTask]:
        rows = tasks.list_tasks(self.ctx, SYSTEM, scope="all", instance_id=self.instance_id, limit=1000)
        return [
            ReadyTask(self, r["id"], r["name"], r["lane"], r["lane"], r["due_at"])
            for r in rows
            if (spec_name is None or r["name"] == spec_name) and (lane is None or r["lane"] == lane)
        ]

    def ready_names(self) -> list[str]:
        return sorted(t.name for t in self.ready())

    def task_data(self, task_ids: list[str]) -> dict[str, dict[str, Any]]:
        """The own data of READY tasks, read from the stored workflow without changing it."""
        missing = [i for i in task_ids if i not in self._data_cache]
        if missing:
            with self.ctx.uow() as uow:
                row = uow.session.get(ProcessInstance, self.instance_id)
                assert row is not None
                workflow = instance_store.load_workflow(self.ctx, uow, row)
                for i in missing:
                    self._data_cache[i] = copy.deepcopy(workflow.get_task_from_id(UUID(i)).data)
        return {i: self._data_cache[i] for i in task_ids}

    @property
    def completed(self) -> bool:
        return self.status == "complete"

    @property
    def data(self) -> dict:
        """The instance's data as the server shows it (the last completed task's, at the end the
        workflow's)."""
        return self.instance()["data"]

    @property
    def element_states(self) -> dict[str, str]:
        return self.instance()["element_states"]

    def history(self) -> list[dict[str, Any]]:
        return instances.history(self.ctx, SYSTEM, self.instance_id)

    def audited_completions(self) -> list[dict[str, Any]]:
        """The `task.completed` records of the audit log, in the shape of `completions`."""
        return [
            {
                "at": e["at"],
                "actor": e["actor"],
                "task_id": e["task_id"],
                "element_id": e["element_id"],
                "data": e["details"]["data"],
            }
            for e in self.history()
            if e["action"] == "task.completed"
        ]

    def audited_timers(self) -> list[tuple[str, str]]:
        """(element id, fired at) of the `timer.fired` records of the audit log."""
        return [
            (e["element_id"], e["details"]["fired_at"])
            for e in self.history()
            if e["action"] == "timer.fired"
        ]

    def reached(self, spec_name: str) -> bool:
        """Whether the element has completed at least once (also if it is active again now)."""
        if self.element_states.get(spec_name) == "completed":
            return True
        return any(e["action"] == "task.completed" and e["element_id"] == spec_name for e in self.history())

    # steps
    def complete(
        self, spec_name: str, data: dict, lane: str | None = None, where: dict | None = None
    ) -> dict[str, Any]:
        """Complete the READY user task `spec_name` (optionally the one whose data matches `where`) as
        a member of its lane group: the ballot's own member when `where` names a username."""
        candidates = self.ready(spec_name, lane)
        assert candidates, f"no READY task {spec_name} (ready: {self.ready_names()})"
        username = None
        if where:
            found = self.task_data([t.id for t in candidates])
            candidates = [
                t for t in candidates if all(_lookup(found[t.id], k) == v for k, v in where.items())
            ]
            assert candidates, f"no READY task {spec_name} with {where}"
            username = next((v for k, v in where.items() if k.split(".")[-1] == "username"), None)
        task = candidates[0]
        if username is None:
            assert task.group, f"{spec_name} has no lane"
            username = self.members(task.group)[0]
        result = tasks.complete_task(self.ctx, self.actor(username), task.id, data)
        self._data_cache.pop(task.id, None)
        self.completions.append(
            {
                "at": self.now.isoformat(),
                "actor": username,
                "task_id": task.id,
                "element_id": spec_name,
                "data": data,
            }
        )
        self._check(self.instance())
        return result

    def advance(self, to: str | None = None, **delta: float) -> None:
        """Move the clock (to an ISO date-time, or by a timedelta) and let the scheduler's use case
        (`timers.run_due`) claim and fire every timer due strictly before the new time."""
        self.now = datetime.fromisoformat(to) if to else self.now + timedelta(**delta)
        self._data_cache.clear()
        checks = iter(range(MAX_TIMER_CLAIMS))
        timers.run_due(self.ctx, SCHEDULER, should_stop=lambda: next(checks, None) is None)
        assert next(checks, None) is not None, "timers.run_due did not come to rest"
        with self.ctx.uow() as uow:
            query = select(WaitingTimer).where(WaitingTimer.due_at < self.now)
            assert not list(uow.session.scalars(query)), "a due timer was left unfired"
        self._check(self.instance())

    def waiting_timers(self) -> list[str]:
        """Element ids of the timers waiting, at any depth (the `waiting_timers` table)."""
        with self.ctx.uow() as uow:
            query = select(WaitingTimer.element_id).where(WaitingTimer.instance_id == self.instance_id)
            return sorted(uow.session.scalars(query))


def _pairs(session, query) -> dict:  # noqa: ANN001
    return {key: value for key, value in session.execute(query)}


def _lookup(data: dict, dotted: str) -> Any:
    value: Any = data
    for part in dotted.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value
