"""One sandbox worker process, and the limits the server enforces on it from outside.

A worker is a fresh interpreter (`app.sandbox`), never a fork of the server: it holds no secret,
no database connection and no file descriptor but its pipes. Each evaluation has a CPU limit
(RLIMIT_CPU, which the worker sets before it reads the code; the server also watches the
worker's CPU clock) and a wall-clock deadline, after which the server kills the worker with
SIGKILL. `sandbox_pool` keeps these processes warm and hands them out.
"""

from __future__ import annotations

import contextlib
import math
import os
import pwd
import select
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..sandbox import protocol
from .script_errors import SandboxUnavailable

_PACKAGE_PARENT = str(Path(__file__).resolve().parent.parent)  # the folder holding sandbox/
_BOOT = "import sys; sys.path.insert(0, sys.argv[1]); from sandbox.worker import main; main()"
_START_SECONDS = 30.0
_WORKER_USER = "nobody"
_CPU_WATCH_SECONDS = 0.1


@dataclass(frozen=True)
class Limits:
    """What one evaluation may use, and how many workers a process keeps."""

    cpu_seconds: float = 1.0
    memory_mb: int = 256
    wall_seconds: float = 5.0
    workers: int = 2
    uses_per_worker: int = 1000
    # How long an evaluation waits for a free worker before the request is refused (503);
    # None: as long as one evaluation may run.
    queue_seconds: float | None = None
    # Lets a request run unrestricted Python (no RestrictedPython): only tests construct this,
    # to show that the operating system's layers hold on their own.
    unrestricted_for_tests: bool = False
    # Layers a test leaves out ("landlock", "seccomp"), to show what the others hold alone.
    skip_layers_for_tests: tuple[str, ...] = ()


class WorkerDied(Exception):
    """The worker process ended or broke the protocol during an evaluation."""

    def __init__(self, reason: str, limit: str | None = None) -> None:
        super().__init__(reason)
        self.limit = limit


def _worker_user() -> tuple[int, int] | tuple[None, None]:
    if os.geteuid() != 0:
        return None, None
    try:
        entry = pwd.getpwnam(_WORKER_USER)
        return entry.pw_uid, entry.pw_gid
    except KeyError:
        return 65534, 65534


class WorkerProcess:
    """One worker and the server's end of its pipes."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.uses = 0
        self.layers: dict[str, str] = {}
        self._buffer = bytearray()
        uid, gid = _worker_user()
        self.process = subprocess.Popen(
            [sys.executable, "-I", "-B", "-c", _BOOT, _PACKAGE_PARENT],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env={},
            cwd="/",
            close_fds=True,
        )
        self.pid = self.process.pid
        # The kernel's CPU clock of another process (MAKE_PROCESS_CPUCLOCK(pid, CPUCLOCK_SCHED)).
        self._cpu_clock = ((~self.pid) << 3) | 2
        self._read_fd = self.process.stdout.fileno()  # type: ignore[union-attr]
        self._write_fd = self.process.stdin.fileno()  # type: ignore[union-attr]
        os.set_blocking(self._read_fd, False)
        os.set_blocking(self._write_fd, False)
        self._readable = select.poll()
        self._readable.register(self._read_fd, select.POLLIN)
        self._writable = select.poll()
        self._writable.register(self._write_fd, select.POLLOUT)
        self._killed = False
        self._cpu_limit_at = math.inf
        config = {
            "memory_bytes": limits.memory_mb * 1024 * 1024,
            "uid": uid,
            "gid": gid,
            "unrestricted_allowed": limits.unrestricted_for_tests,
            "skip_for_tests": list(limits.skip_layers_for_tests),
            "cpu_seconds": limits.cpu_seconds,
            "uses": limits.uses_per_worker,
        }
        try:
            deadline = time.monotonic() + _START_SECONDS
            self._send(protocol.encode(config), deadline)
            ready = self._receive(deadline)
        except WorkerDied as exc:
            reason = f"a sandbox worker could not start: {exc}{self._stderr()}"
            self.kill()
            raise SandboxUnavailable(reason) from None
        self.process.stderr.close()  # type: ignore[union-attr]
        self.layers = dict(ready.get("layers") or {})

    def _stderr(self) -> str:
        try:
            text = self.process.stderr.read(8192).decode(errors="replace").strip()  # type: ignore[union-attr]
        except (OSError, ValueError):
            return ""
        return f" ({text.splitlines()[-1]})" if text else ""

    def cpu_seconds(self) -> float:
        try:
            return time.clock_gettime(self._cpu_clock)
        except OSError:
            return 0.0

    def run(self, frame: bytes, functions: Mapping[str, Callable[..., Any]]) -> dict[str, Any]:
        """Send one framed request and answer the worker's function calls until its answer comes."""
        self.uses += 1
        self._cpu_limit_at = self.cpu_seconds() + self.limits.cpu_seconds
        deadline = time.monotonic() + self.limits.wall_seconds
        self._send(frame, deadline)
        while True:
            message = self._receive(deadline)
            if "call" not in message:
                return message
            self._send(protocol.encode(call_server(functions, message)), deadline)

    def _send(self, frame: bytes, deadline: float) -> None:
        view = memoryview(frame)
        while view:
            try:
                view = view[os.write(self._write_fd, view) :]
            except BlockingIOError:
                self._wait(self._writable, deadline)  # the pipe is full: wait until the worker reads
            except OSError:
                raise self._death() from None

    def _receive(self, deadline: float) -> dict[str, Any]:
        length: int | None = None
        while True:
            if length is None and len(self._buffer) >= protocol.HEADER.size:
                try:
                    length = protocol.body_length(bytes(self._buffer[: protocol.HEADER.size]))
                except protocol.ProtocolError as exc:
                    self.kill()
                    raise WorkerDied(str(exc)) from None
            if length is not None and len(self._buffer) >= protocol.HEADER.size + length:
                end = protocol.HEADER.size + length
                body = bytes(self._buffer[protocol.HEADER.size : end])
                del self._buffer[:end]
                try:
                    message = protocol.decode(body)
                except protocol.ProtocolError as exc:
                    self.kill()
                    raise WorkerDied(str(exc)) from None
                if not isinstance(message, dict):
                    self.kill()
                    raise WorkerDied("the worker sent something that is not a message")
                return message
            self._wait(self._readable, deadline)
            try:
                chunk = os.read(self._read_fd, 1 << 16)
            except BlockingIOError:
                continue
            if not chunk:
                raise self._death()
            self._buffer += chunk

    def _wait(self, poller: select.poll, deadline: float) -> None:
        """Until the pipe is ready; meanwhile the worker's CPU clock is watched, in case code that
        broke out of the interpreter's rules lifted its own CPU limit."""
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self.kill()
                raise WorkerDied(
                    f"diagram code ran longer than the wall-clock limit of {self.limits.wall_seconds:g} s",
                    limit="time",
                )
            if poller.poll(min(remaining, _CPU_WATCH_SECONDS) * 1000):
                return
            if self.cpu_seconds() > self._cpu_limit_at + _CPU_WATCH_SECONDS:
                self.kill()
                raise self._cpu_limit_error()

    def _cpu_limit_error(self) -> WorkerDied:
        limit = self.limits.cpu_seconds
        return WorkerDied(f"diagram code used more than the CPU limit of {limit:g} s", limit="cpu")

    def _death(self) -> WorkerDied:
        """Why the worker's pipe closed: a CPU limit, or something unexplained."""
        cpu = self.cpu_seconds()
        status = self._reap()
        if status is not None and status < 0:
            sig = -status
            name = signal.Signals(sig).name if sig in signal.Signals._value2member_map_ else str(sig)
            at_limit = cpu >= self._cpu_limit_at - 0.05
            if sig == signal.SIGXCPU or (sig == signal.SIGKILL and not self._killed and at_limit):
                return self._cpu_limit_error()
            return WorkerDied(f"the sandbox worker was stopped by {name}")
        return WorkerDied(f"the sandbox worker exited (status {status})")

    def _reap(self) -> int | None:
        try:
            return self.process.wait(timeout=2.0)
        except subprocess.TimeoutExpired:
            self.kill()
            return self.process.wait()

    def alive(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        if self.process.poll() is None:
            self._killed = True
            with contextlib.suppress(ProcessLookupError):
                self.process.kill()
            self.process.wait()
        for stream in (self.process.stdin, self.process.stdout, self.process.stderr):
            with contextlib.suppress(OSError, ValueError):
                stream.close()  # type: ignore[union-attr]


def call_server(functions: Mapping[str, Callable[..., Any]], message: Mapping[str, Any]) -> dict[str, Any]:
    """Run a function a script called, in the server, and the answer to send back."""
    name, args = message.get("call"), message.get("args")
    function = functions.get(name) if isinstance(name, str) else None
    if function is None or not isinstance(args, list):
        return {"raise": {"type": "NameError", "message": f"no function {name!r}"}}
    try:
        value = function(*args)
        protocol.encode(value)
    except (ValueError, TypeError, KeyError, LookupError, ZeroDivisionError) as exc:
        # A KeyError's str() quotes its key: send the key, which the worker's KeyError quotes.
        message = str(exc.args[0]) if isinstance(exc, KeyError) and exc.args else str(exc)
        return {"raise": {"type": type(exc).__name__, "message": message}}
    except SandboxUnavailable:
        raise
    except Exception as exc:  # a failing function fails the script that called it
        return {"raise": {"type": "RuntimeError", "message": f"{name}: {exc}"}}
    return {"value": value}
