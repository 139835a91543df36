"""The pool of sandbox workers: replacement after a death, reuse, and a clear refusal when busy."""

from __future__ import annotations

import os
import signal
import threading
import time
from typing import Any

import pytest

from app.engine import sandbox_pool, sandbox_process
from app.engine.sandbox_pool import Limits, WorkerPool, shared_pool
from app.engine.script_errors import SandboxUnavailable, ScriptCrashed, ScriptLimitExceeded, ScriptRaised
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


def test_a_worker_killed_mid_evaluation_is_replaced_and_the_evaluation_served(
    pool: WorkerPool, caplog: pytest.LogCaptureFixture
) -> None:
    calls: list[int] = []

    def hook() -> int:
        calls.append(1)
        if len(calls) == 1:
            _kill_busy(pool)  # from outside, while the worker waits for this answer
        return 7

    env = SandboxEnvironment(pool, {"hook": hook})
    context: dict[str, Any] = {"x": 1}
    with caplog.at_level("WARNING", logger=sandbox_pool.__name__):
        env.execute("y = hook() + x", context)
    assert context == {"x": 1, "y": 8}
    assert len(calls) == 2
    [record] = [r for r in caplog.records if r.name == sandbox_pool.__name__]
    assert record.getMessage().endswith(
        "died (the sandbox worker was stopped by SIGKILL); running the evaluation again"
    )
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
    assert str(info.value) == "all 1 sandbox workers are busy"
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
    monkeypatch.setattr(sandbox_process, "_BOOT", "import sys; sys.exit('no interpreter for you')")
    pool = WorkerPool(Limits(workers=1))
    with pytest.raises(SandboxUnavailable) as info:
        SandboxEnvironment(pool).evaluate("x + 1", {"x": 1})
    assert str(info.value) == (
        "a sandbox worker could not start: the sandbox worker exited (status 1) (no interpreter for you)"
    )
    assert pool._live == 0 and not pool.busy
    monkeypatch.setattr(sandbox_process, "_BOOT", "import os; os.kill(os.getpid(), 9)")
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
    pool = WorkerPool(Limits(cpu_seconds=0.5, wall_seconds=5))
    env = SandboxEnvironment(pool, {"wait": lambda: time.sleep(0.8) or 1})
    context: dict[str, Any] = {}
    # 0.8 s waiting for the server, then about 0.15 s of CPU (far enough under the limit on a
    # busy machine): more wall time than the CPU limit, and the server watches the worker's
    # CPU clock meanwhile.
    script = "x = wait()\nfor j in range(10):\n    for i in range(100000):\n        x += i"
    try:
        env.execute(script, context)
    finally:
        pool.close()
    assert context["x"] == 1 + 10 * 4_999_950_000


def test_calls_from_a_worker_are_answered_in_the_protocols_words() -> None:
    call = sandbox_process.call_server
    unknown = {"raise": {"type": "NameError", "message": "no function 'nope'"}}
    assert call({}, {"call": "nope", "args": []}) == unknown
    assert call({"f": len}, {"call": "f", "args": "x"})["raise"]["type"] == "NameError"
    missing_key = {"raise": {"type": "KeyError", "message": "k"}}
    assert call({"f": lambda: {}["k"]}, {"call": "f", "args": []}) == missing_key

    def broken() -> None:
        raise OSError("disk")

    failing = {"raise": {"type": "RuntimeError", "message": "f: disk"}}
    assert call({"f": broken}, {"call": "f", "args": []}) == failing
    assert call({"f": lambda a, b: a + b}, {"call": "f", "args": [1, 2]}) == {"value": 3}


def test_limits_and_failures_are_reported_in_so_many_words() -> None:
    pool = WorkerPool(Limits(workers=1, cpu_seconds=0.2, wall_seconds=0.5, queue_seconds=0.2))
    waiting = {"wait": lambda: time.sleep(1) or 1, "kill": lambda: _kill_busy(pool) or 1}
    env = SandboxEnvironment(pool, waiting)
    busy = WorkerPool(Limits(workers=1, cpu_seconds=0.2, wall_seconds=10))
    try:
        with pytest.raises(ScriptLimitExceeded) as wall:
            env.evaluate("wait()", {})
        assert str(wall.value) == "diagram code ran longer than the wall-clock limit of 0.5 s"
        with pytest.raises(ScriptLimitExceeded) as cpu:
            SandboxEnvironment(busy).execute("while True:\n    pass", {})
        assert str(cpu.value) == "diagram code used more than the CPU limit of 0.2 s"
        with pytest.raises(ScriptCrashed) as twice:
            env.evaluate("kill()", {})
        assert str(twice.value) == "the sandbox worker was stopped by SIGKILL twice while running this code"
        assert pool.retry_after == 1
    finally:
        pool.close()
        busy.close()
    with pytest.raises(SandboxUnavailable) as closed:
        env.evaluate("x + 1", {"x": 1})
    assert str(closed.value) == "the sandbox is shut down"


def test_the_pool_keeps_count_of_its_workers_through_limits_and_replacements() -> None:
    pool = WorkerPool(Limits(workers=2, cpu_seconds=0.2, uses_per_worker=2))
    env = SandboxEnvironment(pool, {"worker": lambda: next(iter(pool.busy)).pid})
    try:
        for _ in range(3):
            with pytest.raises(ScriptLimitExceeded):
                env.execute("while True:\n    pass", {})
            env.evaluate("1 + 1", {})
        deadline = time.monotonic() + 5
        while len(pool._idle) < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert pool._live == 2 and len(pool._idle) == 2 and not pool.busy
        assert all(worker.alive() for worker in pool._idle)
    finally:
        pool.close()


def test_a_layer_that_is_not_active_is_warned_about_once(caplog: pytest.LogCaptureFixture) -> None:
    pool = WorkerPool(Limits(workers=1, uses_per_worker=1, skip_layers_for_tests=("seccomp",)))
    env = SandboxEnvironment(pool)
    try:
        with caplog.at_level("WARNING", logger=sandbox_pool.__name__):
            for _ in range(3):
                env.evaluate("x + 1", {"x": 1})
        warnings = [r.getMessage() for r in caplog.records if r.name == sandbox_pool.__name__]
        skipped = "skipped (a test shows the other layers alone)"
        assert warnings == [f"sandbox layer seccomp is {skipped}; the other layers still apply"]
    finally:
        pool.close()
    caplog.clear()
    quiet = WorkerPool(Limits(workers=1))
    try:
        with caplog.at_level("WARNING", logger=sandbox_pool.__name__):
            SandboxEnvironment(quiet).evaluate("x + 1", {"x": 1})
        assert not [r for r in caplog.records if r.name == sandbox_pool.__name__]
    finally:
        quiet.close()


def test_the_pools_of_the_process_are_closed_at_exit() -> None:
    pool = shared_pool(Limits(workers=1, uses_per_worker=7))
    env = SandboxEnvironment(pool)
    assert env.evaluate("x + 1", {"x": 1}) == 2
    sandbox_pool._close_pools()
    with pytest.raises(SandboxUnavailable, match="shut down"):
        env.evaluate("x + 1", {"x": 1})
    with sandbox_pool._pools_lock:
        sandbox_pool._pools.clear()  # the later tests get pools of their own
    assert shared_pool(Limits()).describe()["limits"] == "active"


def test_an_error_of_the_code_keeps_its_worker_and_a_limit_does_not() -> None:
    pool = WorkerPool(Limits(workers=1, memory_mb=128))
    env = SandboxEnvironment(pool, {"worker": lambda: next(iter(pool.busy)).pid})
    try:
        first = env.evaluate("worker()", {})
        with pytest.raises(ScriptRaised):
            env.evaluate("1 / 0", {})
        assert env.evaluate("worker()", {}) == first
        with pytest.raises(ScriptLimitExceeded):
            env.execute("x = 'a' * 1000000\ny = [x + str(i) for i in range(300)]", {})
        assert env.evaluate("worker()", {}) != first
    finally:
        pool.close()


def test_a_worker_that_died_while_idle_is_not_handed_out(pool: WorkerPool) -> None:
    env = SandboxEnvironment(pool)
    assert env.evaluate("x + 1", {"x": 1}) == 2
    [idle] = pool._idle
    os.kill(idle.pid, signal.SIGKILL)
    idle.process.wait()
    assert env.evaluate("x + 2", {"x": 1}) == 3
    assert pool._live == 1 and len(pool._idle) == 1 and pool._idle[0].pid != idle.pid
