"""The pool of sandbox workers: replacement after a death, reuse, and a clear refusal when busy."""

from __future__ import annotations

import os
import signal
import threading
import time
from typing import Any

import pytest

from app.engine import sandbox_pool
from app.engine.sandbox_pool import Limits, WorkerPool, shared_pool
from app.engine.script_errors import SandboxUnavailable, ScriptCrashed
from app.engine.scripting import SandboxEnvironment, sandbox_unavailable_in
from app.errors import Unavailable
from app.services.context import script_limits
from app.settings import Settings


@pytest.fixture
def pool() -> WorkerPool:
    pool = WorkerPool(Limits(workers=1, uses_per_worker=3, wall_seconds=3, queue_seconds=0.3))
    yield pool
    pool.close()


def _kill_busy(pool: WorkerPool) -> None:
    for worker in list(pool.busy):
        os.kill(worker.pid, signal.SIGKILL)


def test_a_worker_killed_mid_evaluation_is_replaced_and_the_evaluation_served(pool: WorkerPool) -> None:
    calls: list[int] = []

    def hook() -> int:
        calls.append(1)
        if len(calls) == 1:
            _kill_busy(pool)  # from outside, while the worker waits for this answer
        return 7

    env = SandboxEnvironment(pool, {"hook": hook})
    context: dict[str, Any] = {"x": 1}
    env.execute("y = hook() + x", context)
    assert context == {"x": 1, "y": 8}
    assert len(calls) == 2
    assert env.evaluate("x * 2", {"x": 4}) == 8


def test_a_worker_that_dies_every_time_is_an_error_of_the_code(pool: WorkerPool) -> None:
    env = SandboxEnvironment(pool, {"hook": lambda: _kill_busy(pool) or 1})
    context = {"x": 1}
    with pytest.raises(ScriptCrashed, match="SIGKILL"):
        env.execute("y = hook()", context)
    assert context == {"x": 1}
    assert env.evaluate("x + 1", context) == 2


def test_workers_are_reused_then_replaced_after_their_uses(pool: WorkerPool) -> None:
    env = SandboxEnvironment(pool, {"worker": lambda: next(iter(pool.busy)).pid})
    pids = [env.evaluate("worker()", {}) for _ in range(7)]
    first, second, third = dict.fromkeys(pids)  # in order of first use
    assert pids == [first] * 3 + [second] * 3 + [third]


def test_an_exhausted_pool_refuses_in_time_with_retry_after(pool: WorkerPool) -> None:
    started = threading.Event()

    def slow() -> int:
        started.set()
        time.sleep(1.5)
        return 1

    env = SandboxEnvironment(pool, {"slow": slow})
    holder = threading.Thread(target=lambda: env.evaluate("slow()", {}))
    holder.start()
    assert started.wait(5)
    began = time.monotonic()
    with pytest.raises(SandboxUnavailable) as info:
        env.evaluate("x + 1", {"x": 1})
    assert 0.25 < time.monotonic() - began < 1.4
    assert isinstance(info.value, Unavailable)
    assert info.value.retry_after == 3
    holder.join()
    assert env.evaluate("x + 1", {"x": 1}) == 2


def test_a_closed_pool_refuses() -> None:
    pool = WorkerPool(Limits(workers=1))
    env = SandboxEnvironment(pool)
    assert env.evaluate("x + 1", {"x": 1}) == 2
    pool.close()
    with pytest.raises(SandboxUnavailable, match="shut down"):
        env.evaluate("x + 1", {"x": 1})


def test_a_worker_that_went_is_replaced_in_the_background(pool: WorkerPool) -> None:
    env = SandboxEnvironment(pool)
    for value in range(3):  # the third use retires the worker
        env.evaluate("x + 1", {"x": value})
    deadline = time.monotonic() + 5
    while not pool._idle and time.monotonic() < deadline:
        time.sleep(0.02)
    assert len(pool._idle) == 1 and pool._idle[0].alive()  # started without a request waiting


def test_one_pool_per_process_and_limits() -> None:
    assert shared_pool(Limits()) is shared_pool(Limits())
    assert shared_pool(Limits(workers=3)) is not shared_pool(Limits())


def test_a_worker_that_cannot_start_makes_the_request_unavailable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sandbox_pool, "_BOOT", "import sys; sys.exit('no interpreter for you')")
    pool = WorkerPool(Limits(workers=1))
    with pytest.raises(SandboxUnavailable) as info:
        SandboxEnvironment(pool).evaluate("x + 1", {"x": 1})
    assert str(info.value) == (
        "a sandbox worker could not start: the sandbox worker exited (status 1) (no interpreter for you)"
    )
    assert pool._live == 0 and not pool.busy
    monkeypatch.setattr(sandbox_pool, "_BOOT", "import os; os.kill(os.getpid(), 9)")
    with pytest.raises(SandboxUnavailable) as killed:
        SandboxEnvironment(pool).evaluate("x + 1", {"x": 1})
    assert str(killed.value) == "a sandbox worker could not start: the sandbox worker was stopped by SIGKILL"


def test_the_unavailable_sandbox_is_found_behind_any_wrapping() -> None:
    busy = SandboxUnavailable("busy")
    try:
        try:
            raise busy
        except SandboxUnavailable as exc:
            raise RuntimeError("wrapped") from exc
    except RuntimeError as wrapped:
        assert sandbox_unavailable_in(wrapped) is busy
    try:
        try:
            raise busy
        except SandboxUnavailable:
            raise KeyError("during")  # noqa: B904 - as SpiffWorkflow wraps errors: context only
    except KeyError as during:
        assert sandbox_unavailable_in(during) is busy
    holder = Exception("spiff")
    holder.exception = busy  # type: ignore[attr-defined]
    assert sandbox_unavailable_in(holder) is busy
    assert sandbox_unavailable_in(ValueError("plain")) is None


def test_the_defaults_are_the_settings_defaults() -> None:
    assert Limits() == script_limits(Settings())


def test_waiting_for_the_server_is_not_cpu_time() -> None:
    pool = WorkerPool(Limits(cpu_seconds=0.2, wall_seconds=3))
    env = SandboxEnvironment(pool, {"wait": lambda: time.sleep(0.6) or 1})
    try:
        assert env.evaluate("wait() + wait()", {}) == 2  # 1.2 s of waiting, almost no CPU
    finally:
        pool.close()
