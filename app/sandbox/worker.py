"""The worker's loop: one evaluation at a time, each in a namespace of its own.

Started by the server as `python -I -B -c <boot> <folder holding this package>`; reads a
configuration, locks itself down, answers "ready", then serves requests until its input closes:

  request  {"op": "eval" | "exec", "source", "data", "external", "functions", "unrestricted"}
  call     {"call": name, "args": [...]}          (a function the server answers: {"value"} or
                                                   {"raise": {"type", "message"}})
  answer   {"value": v} | {"data": {...}} | {"error": {"kind", "type", "message", "line"}}
           (with "printed": what print() wrote, when it wrote anything)

Every BaseException of diagram code becomes an answer; a MemoryError ends the worker after it.
"""

from __future__ import annotations

import os
import sys
import types
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from . import lockdown, policy, protocol

_CACHE_SIZE = 1024
# Exceptions a server-side function may raise into diagram code, by name.
_RAISABLE: dict[str, type[Exception]] = {
    cls.__name__: cls for cls in (ValueError, TypeError, KeyError, LookupError, ZeroDivisionError)
}


class _Channel:
    def __init__(self, read_fd: int, write_fd: int) -> None:
        self._reader = os.fdopen(read_fd, "rb", buffering=1 << 16)
        self._write_fd = write_fd

    def receive(self) -> Any:
        header = self._reader.read(protocol.HEADER.size)
        if len(header) < protocol.HEADER.size:
            raise EOFError
        body = self._reader.read(protocol.body_length(header))
        return protocol.decode(body)

    def send_bytes(self, frame: bytes) -> None:
        view = memoryview(frame)
        while view:
            view = view[os.write(self._write_fd, view) :]

    def send(self, message: Any) -> None:
        self.send_bytes(protocol.encode(message))


class Worker:
    def __init__(self, channel: _Channel, unrestricted_allowed: bool) -> None:
        self.channel = channel
        self.unrestricted_allowed = unrestricted_allowed
        self._codes: OrderedDict[tuple[str, str, bool], Any] = OrderedDict()
        self.printed = policy.PrintLog()  # of the request being answered

    def compiled(self, source: str, mode: str, unrestricted: bool) -> Any:
        key = (source, mode, unrestricted)
        code = self._codes.get(key)
        if code is not None:
            self._codes.move_to_end(key)
            return code
        if unrestricted:
            code = compile(source, policy.FILENAME, mode)
        else:
            code, errors = policy.compile_code(source, mode)
            if code is None:
                raise policy.ScriptRejected(policy.reasons(errors))
        self._codes[key] = code
        if len(self._codes) > _CACHE_SIZE:
            self._codes.popitem(last=False)
        return code

    def function(self, name: str) -> Callable[..., Any]:
        def call(*args: Any) -> Any:
            self.channel.send({"call": name, "args": list(args)})
            answer = self.channel.receive()
            if "raise" in answer:
                error = answer["raise"]
                raise _RAISABLE.get(error.get("type"), RuntimeError)(error.get("message", ""))
            return answer.get("value")

        call.__name__ = name
        return call

    def handle(self, request: dict[str, Any]) -> dict[str, Any]:
        printed = self.printed = policy.PrintLog()
        unrestricted = bool(request.get("unrestricted")) and self.unrestricted_allowed
        mode = "eval" if request["op"] == "eval" else "exec"
        source = request["source"].strip() if mode == "eval" else request["source"]
        code = self.compiled(source, mode, unrestricted)
        data: dict[str, Any] = request.get("data") or {}
        external: dict[str, Any] = request.get("external") or {}
        functions = {name: self.function(name) for name in request.get("functions") or ()}
        added = {**functions, **external}
        namespace = {**added, **data} if mode == "eval" else data
        if mode == "exec":
            namespace.update(added)
        if unrestricted:
            namespace["__builtins__"] = __builtins__
        else:
            namespace.update(policy.GUARDS)
            # Module code binds `_print` itself; an expression uses the one lent here.
            namespace.update(_print_=printed, _print=printed)
            namespace["__builtins__"] = policy.BUILTINS
        if mode == "eval":
            return _with_printed({"value": eval(code, namespace)}, printed)
        exec(code, namespace)
        # What stays is task data: plain values the script left, without what was lent to it.
        lent = {*added, *policy.GUARDS, "__builtins__", "_print_", "_print"}
        return _with_printed(
            {"data": {k: v for k, v in namespace.items() if k not in lent and not _tool(v)}}, printed
        )


def _with_printed(answer: dict[str, Any], printed: policy.PrintLog) -> dict[str, Any]:
    if printed.parts:
        answer["printed"] = printed.text()
    return answer


def _tool(value: Any) -> bool:
    """Functions a script defined (and modules, which only unrestricted test code can import)
    are its tools, not task data."""
    return callable(value) or isinstance(value, types.ModuleType)


def _line_of(exc: BaseException) -> int | None:
    line = None
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == policy.FILENAME:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def _error(kind: str, exc: BaseException, **extra: Any) -> dict[str, Any]:
    try:
        message = str(exc)
    except BaseException:  # noqa: BLE001 - an exception whose str() fails is still an answer
        message = "(no message)"
    return {"error": {"kind": kind, "type": type(exc).__name__, "message": message[:2000],
                      "line": _line_of(exc), **extra}}  # fmt: skip


def _answer(worker: Worker, request: dict[str, Any]) -> tuple[bytes, bool]:
    """The framed answer to a request, and whether the worker must stop after it."""
    try:
        result = worker.handle(request)
    except MemoryError as exc:
        return protocol.encode(_error("limit", exc, limit="memory")), True
    except policy.ScriptRejected as exc:
        return protocol.encode(_error("rejected", exc)), False
    except BaseException as exc:  # noqa: BLE001 - SystemExit, GeneratorExit... are the script's too
        # What the code printed before it failed is what explains the failure.
        return protocol.encode(_with_printed(_error("raised", exc), worker.printed)), False
    try:
        return protocol.encode(result), False
    except MemoryError as exc:
        return protocol.encode(_error("limit", exc, limit="memory")), True
    except BaseException as exc:  # noqa: BLE001 - a value that cannot be stored
        return protocol.encode(_error("value", exc, where=_unstorable(result))), False


def _unstorable(result: dict[str, Any]) -> str | None:
    """The variable (or the result) holding a value that cannot be stored, for the message."""
    for name, value in (result.get("data") or {"": result.get("value")}).items():
        try:
            protocol.encode(value)
        except BaseException:  # noqa: BLE001
            return name or None
    return None


def _warm_up(worker: Worker) -> None:
    # Code paths that import lazily must have run before the lock-down forbids opening files.
    for source in (
        "x = f'{1:>3}' + '%s' % 2 + str(round(2.5)) + repr([1])\ny = sorted({'a': 1}.items())",
        "x = [i for i in range(3)]\ntry:\n    z = 1 / 0\nexcept ZeroDivisionError:\n    pass",
    ):
        worker.handle({"op": "exec", "source": source, "data": {}})
    worker.handle({"op": "eval", "source": "max(x) if x else None", "data": {"x": [1]}})
    protocol.decode(protocol.encode({"a": [1, 2.5, "é", None, True]})[protocol.HEADER.size :])
    "é".encode().decode("latin-1").encode("ascii", "replace")  # noqa: B018


def main() -> None:
    # The protocol moves off the standard streams, which point to /dev/null from then on.
    channel = _Channel(os.dup(0), os.dup(1))
    null = os.open(os.devnull, os.O_RDWR)
    config = channel.receive()
    worker = Worker(channel, bool(config.get("unrestricted_allowed")))
    _warm_up(worker)
    layers = lockdown.apply(config)
    cpu_seconds = float(config["cpu_seconds"])
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    os.close(null)
    sys.stdout = sys.stderr = None  # type: ignore[assignment]
    channel.send({"ready": True, "layers": layers, "pid": os.getpid()})
    while True:
        try:
            request = channel.receive()
        except EOFError:
            return
        lockdown.limit_cpu(cpu_seconds)
        frame, stop = _answer(worker, request)
        del request
        channel.send_bytes(frame)
        if stop:
            return
