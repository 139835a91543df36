"""Warm sandbox workers (`sandbox_process`), each evaluation taking one for itself.

A worker runs one evaluation at a time; it is replaced after a limit, a crash, or
`uses_per_worker` evaluations, and a replacement starts in the background.
"""

from __future__ import annotations

import atexit
import logging
import math
import os
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from .sandbox_process import Limits, WorkerDied, WorkerProcess
from .script_errors import SandboxUnavailable, ScriptCrashed, ScriptLimitExceeded

__all__ = ["Limits", "WorkerPool", "shared_pool"]

log = logging.getLogger(__name__)


def _is_answer(message: Mapping[str, Any]) -> bool:
    return any(
        ("value" in message, isinstance(message.get("data"), dict), isinstance(message.get("error"), dict))
    )


class WorkerPool:
    """Up to `limits.workers` warm workers; each evaluation takes one for itself."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self._idle: list[WorkerProcess] = []
        self.busy: set[WorkerProcess] = set()
        self._live = 0
        self._condition = threading.Condition()
        self._closed = False
        self.layers: dict[str, str] = {}
        self._warned = False

    def run(self, frame: bytes, functions: Mapping[str, Callable[..., Any]]) -> dict[str, Any]:
        """The worker's answer to one framed request (`protocol.encode`). A worker that dies with
        no limit to blame (a crash, a kill from outside) is replaced, and the request runs once
        more on a new one."""
        for attempt in (1, 2):
            worker = self._checkout()
            try:
                answer = worker.run(frame, functions)
            except WorkerDied as died:
                self._discard(worker)
                if died.limit is not None:
                    raise ScriptLimitExceeded(str(died), limit=died.limit) from None
                if attempt == 2:
                    raise ScriptCrashed(f"{died} twice while running this code") from None
                log.warning("sandbox worker %s died (%s); running the evaluation again", worker.pid, died)
                continue
            except BaseException:
                self._discard(worker)
                raise
            error = answer.get("error")
            if not _is_answer(answer):
                # Only code that broke out of the interpreter's rules writes to the pipe itself:
                # that worker serves nobody again.
                self._discard(worker)
                raise ScriptCrashed("the sandbox worker broke its protocol")
            if isinstance(error, dict) and error.get("kind") == "limit":
                self._discard(worker)
            else:
                self._checkin(worker)
            return answer
        raise AssertionError("unreachable")

    def _checkout(self) -> WorkerProcess:
        wait = self.limits.queue_seconds
        deadline = time.monotonic() + (self.limits.wall_seconds if wait is None else wait)
        with self._condition:
            while True:
                if self._closed:
                    raise SandboxUnavailable("the sandbox is shut down")
                while self._idle:
                    worker = self._idle.pop()
                    if worker.alive():
                        self.busy.add(worker)
                        return worker
                    worker.kill()  # reaps it and closes its pipes
                    self._live -= 1
                if self._live < self.limits.workers:
                    self._live += 1
                    break
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise SandboxUnavailable(
                        f"all {self.limits.workers} sandbox workers are busy", retry_after=self.retry_after
                    )
                self._condition.wait(remaining)
        try:
            worker = self._start()
        except BaseException:
            with self._condition:
                self._live -= 1
                self._condition.notify()
            raise
        with self._condition:
            self.busy.add(worker)
        return worker

    @property
    def retry_after(self) -> int:
        return max(1, math.ceil(self.limits.wall_seconds))

    def _start(self) -> WorkerProcess:
        worker = WorkerProcess(self.limits)
        self.layers = worker.layers
        if not self._warned:
            self._warned = True
            for layer, state in worker.layers.items():
                if not state.startswith(("active", "not needed")):
                    log.warning("sandbox layer %s is %s; the other layers still apply", layer, state)
        return worker

    def _checkin(self, worker: WorkerProcess) -> None:
        if worker.uses >= self.limits.uses_per_worker:
            self._discard(worker)
            return
        with self._condition:
            self.busy.discard(worker)
            if self._closed:
                worker.kill()
                return
            self._idle.append(worker)
            self._condition.notify()

    def _discard(self, worker: WorkerProcess) -> None:
        worker.kill()
        with self._condition:
            self.busy.discard(worker)
            self._live -= 1
            self._condition.notify()
        self._replace_in_background()

    def _replace_in_background(self) -> None:
        """Start a worker in place of one that went, so that no request waits for its start."""
        with self._condition:
            if self._closed or self._live >= self.limits.workers:
                return
            self._live += 1

        def start() -> None:
            try:
                worker = self._start()
            except Exception as exc:
                log.warning("a sandbox worker could not start: %s", exc)
                with self._condition:
                    self._live -= 1
                    self._condition.notify()
                return
            with self._condition:
                if not self._closed:
                    self._idle.append(worker)
                    self._condition.notify()
                    return
            worker.kill()

        threading.Thread(target=start, name="sandbox-worker-start", daemon=True).start()

    def describe(self) -> dict[str, str]:
        """The isolation layers as the workers report them (a worker is started to find out)."""
        if not self.layers:
            self._checkin(self._checkout())
        return dict(self.layers)

    def close(self) -> None:
        with self._condition:
            self._closed = True
            idle, self._idle = self._idle, []
            self._condition.notify_all()
        for worker in idle:
            worker.kill()


_pools: dict[tuple[int, Limits], WorkerPool] = {}
_pools_lock = threading.Lock()


def shared_pool(limits: Limits) -> WorkerPool:
    """The pool of this process for these limits (a forked child gets pools of its own)."""
    key = (os.getpid(), limits)
    with _pools_lock:
        pool = _pools.get(key)
        if pool is None:
            pool = _pools[key] = WorkerPool(limits)
        return pool


@atexit.register
def _close_pools() -> None:
    with _pools_lock:
        pools = [pool for (pid, _), pool in _pools.items() if pid == os.getpid()]
    for pool in pools:
        pool.close()
