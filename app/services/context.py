"""What every use case needs: the session factory, settings, clock, calendar and caches."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, NamedTuple, TypeVar

from sqlalchemy.orm import Session, sessionmaker

from ..engine.calendar import WorkingCalendar
from ..engine.clock import Clock, SystemClock
from ..engine.sandbox_pool import Limits, WorkerPool, shared_pool
from ..settings import Settings
from .uow import UnitOfWork

K = TypeVar("K")
V = TypeVar("V")


class LruCache(Generic[K, V]):
    """A small thread-safe LRU for immutable things (a version's specs and forms)."""

    def __init__(self, size: int = 64) -> None:
        self._size = size
        self._items: OrderedDict[K, V] = OrderedDict()
        self._lock = threading.Lock()

    def get_or_create(self, key: K, create: Callable[[], V]) -> V:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        value = create()
        with self._lock:
            self._items[key] = value
            while len(self._items) > self._size:
                self._items.popitem(last=False)
        return value


class TtlCache(Generic[K, V]):
    """Remembers values for a few seconds (who a token's user is, and their groups)."""

    def __init__(self, seconds: float, size: int = 4096) -> None:
        self._seconds = seconds
        self._size = size
        self._items: dict[K, tuple[float, V]] = {}
        self._lock = threading.Lock()

    def get_or_create(self, key: K, create: Callable[[], V]) -> V:
        now = time.monotonic()
        with self._lock:
            hit = self._items.get(key)
            if hit is not None and hit[0] > now:
                return hit[1]
        value = create()
        with self._lock:
            if len(self._items) >= self._size:
                self._items.clear()
            self._items[key] = (now + self._seconds, value)
        return value

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


class KeptInstance(NamedTuple):
    """What a process stored of an instance last, beside its workflow: the row's values and the
    open task rows, as they were at `row_version`."""

    row_version: int
    row: Mapping[str, Any]
    tasks: Mapping[str, Any]


class WorkflowCache:
    """The workflows this process stored last, by instance and row version.

    The next step on an instance whose row still has the version stored with the workflow starts
    from the object instead of deserializing the state (another process's change moves the row
    version on, and the object is not used). A workflow is taken out when a step uses it (the
    step changes it, and a transaction that fails must not leave it behind) and kept again only
    once the transaction that stored it has committed.

    With the workflow it keeps the instance's row and open task rows, found by task id: a task's
    completion can then be worked out without reading the database first. They are as this
    process stored them, so whoever uses them checks the row version under the write lock."""

    def __init__(self, size: int = 256) -> None:
        self._size = size
        self._items: OrderedDict[int, tuple[Any, KeptInstance]] = OrderedDict()
        self._instance_of_task: dict[str, int] = {}
        self._lock = threading.Lock()

    def take(self, instance_id: int, row_version: int) -> Any | None:
        with self._lock:
            kept = self._pop(instance_id)
        return kept[0] if kept is not None and kept[1].row_version == row_version else None

    def peek_task(self, task_id: str) -> KeptInstance | None:
        """The kept instance with this open task, left in place (its workflow is taken by
        `take` when the step runs)."""
        with self._lock:
            instance_id = self._instance_of_task.get(task_id)
            kept = self._items.get(instance_id) if instance_id is not None else None
            return kept[1] if kept is not None else None

    def keep(
        self,
        instance_id: int,
        row_version: int,
        workflow: Any,
        row: Mapping[str, Any],
        tasks: Mapping[str, Any],
    ) -> None:
        with self._lock:
            self._pop(instance_id)
            self._items[instance_id] = (workflow, KeptInstance(row_version, row, tasks))
            for task_id in tasks:
                self._instance_of_task[task_id] = instance_id
            while len(self._items) > self._size:
                self._pop(next(iter(self._items)))

    def _pop(self, instance_id: int) -> tuple[Any, KeptInstance] | None:
        kept = self._items.pop(instance_id, None)
        if kept is not None:
            for task_id in kept[1].tasks:
                self._instance_of_task.pop(task_id, None)
        return kept


def script_limits(settings: Settings) -> Limits:
    return Limits(
        cpu_seconds=settings.script_cpu_seconds,
        memory_mb=settings.script_memory_mb,
        wall_seconds=settings.script_wall_seconds,
        workers=settings.script_workers,
        queue_seconds=settings.script_queue_seconds,
        uses_per_worker=settings.script_worker_uses,
    )


@dataclass
class ServiceContext:
    session_factory: sessionmaker[Session]
    settings: Settings
    clock: Clock = field(default_factory=SystemClock)
    calendar: WorkingCalendar = field(default_factory=WorkingCalendar)
    specs_cache: LruCache[int, Any] = field(default_factory=LruCache)
    forms_cache: LruCache[tuple[int, str], Any] = field(default_factory=lambda: LruCache(256))
    # A changed membership or a deactivated user takes effect for tokens within this time.
    actors_cache: TtlCache[str, Any] = field(default_factory=lambda: TtlCache(5.0))
    # Bearer tokens whose signature was checked: (username, issued at).
    tokens_cache: TtlCache[str, tuple[str, float]] = field(default_factory=lambda: TtlCache(60.0))
    workflows: WorkflowCache = field(default_factory=WorkflowCache)
    # The newest version of each model as this process last read it: a guess to start new
    # instances on before the writing transaction reads it again.
    newest_versions: dict[str, Any] = field(default_factory=dict)

    @property
    def write_lock_is_global(self) -> bool:
        """True on SQLite, whose writers lock the whole database (PostgreSQL's lock rows): use
        cases then do their engine work before they take the lock where they safely can."""
        bind = self.session_factory.kw["bind"]
        return bind.dialect.name == "sqlite"

    @property
    def sandbox(self) -> WorkerPool:
        """The sandbox workers that evaluate diagram code for this process."""
        return shared_pool(script_limits(self.settings))

    def uow(self, *, write: bool = False) -> UnitOfWork:
        return UnitOfWork(self.session_factory, write=write)

    def now(self) -> datetime:
        return self.clock.now()
