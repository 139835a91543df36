"""Assume breach: unrestricted Python inside a worker (RestrictedPython switched off, which only
tests can do) still cannot reach the server's secrets, files, network or processes, nor outrun
its limits. Each case checks the errno the operating system answers with, so that a case cannot
pass because, say, an import failed instead."""

from __future__ import annotations

import ctypes
import errno
import os
import re
import signal
import sqlite3
import struct
import time
from pathlib import Path
from typing import Any

import pytest

from app.engine.sandbox_pool import Limits, WorkerPool
from app.engine.script_errors import (
    ScriptCrashed,
    ScriptLimitExceeded,
    ScriptRaised,
    ScriptRejected,
    ScriptValueError,
)
from app.engine.scripting import SandboxEnvironment
from app.sandbox import lockdown

# Each probe leaves `result`: what the operating system answered.
PROBE = """
import errno, os
def probe():
{body}
try:
    probe()
    result = "allowed"
except OSError as exc:
    result = errno.errorcode.get(exc.errno, str(exc.errno))
"""


@pytest.fixture(scope="module")
def breached() -> SandboxEnvironment:
    pool = WorkerPool(Limits(unrestricted_for_tests=True, memory_mb=128, cpu_seconds=0.2, wall_seconds=4))
    yield SandboxEnvironment(pool, unrestricted=True)
    pool.close()


@pytest.fixture(scope="module")
def secrets_on_disk(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A secret key file as the server keeps it (owner only), a database file, and a file anyone
    may read in a folder anyone may enter: only Landlock stands between a worker and that one."""
    folder = tmp_path_factory.mktemp("instance")
    secret = folder / "secret_key"
    secret.write_text("s3cr3t-signing-key")
    secret.chmod(0o600)
    database = folder / "workflow.sqlite3"
    sqlite3.connect(database).close()
    public = Path("/tmp") / f"sandbox-public-{os.getpid()}"
    public.mkdir(exist_ok=True)
    public.chmod(0o755)
    readable = public / "readable.txt"
    readable.write_text("anyone may read this")
    readable.chmod(0o644)
    yield {"secret": secret, "database": database, "readable": readable, "public": public}
    readable.unlink()
    public.rmdir()


def probe(env: SandboxEnvironment, body: str, **data: Any) -> str:
    context: dict[str, Any] = dict(data)
    indented = "\n".join(f"    {line}" for line in body.strip().splitlines())
    env.execute(PROBE.format(body=indented), context)
    return context["result"]


def forged_frame(body: bytes, then: str) -> str:
    """Broken-out code that writes a frame of its own to the server's pipe, then does `then`."""
    return (
        f"import os, struct\nbody = {body!r}\n"
        "for fd in range(3, 10):\n    try:\n        os.write(fd, struct.pack('>I', len(body)) + body)\n"
        f"    except OSError:\n        pass\n{then}"
    )


def test_the_probe_itself_reports_success(breached: SandboxEnvironment) -> None:
    assert probe(breached, "x = os.getpid()") == "allowed"


@pytest.mark.parametrize("name", ["secret", "database", "readable"])
def test_no_file_can_be_read(
    breached: SandboxEnvironment, secrets_on_disk: dict[str, Path], name: str
) -> None:
    path = str(secrets_on_disk[name])
    assert probe(breached, "open(path).read()", path=path) == "EACCES"
    assert probe(breached, "os.open(path, os.O_RDONLY)", path=path) == "EACCES"


def test_no_file_can_be_written(breached: SandboxEnvironment, secrets_on_disk: dict[str, Path]) -> None:
    target = str(secrets_on_disk["public"] / "written.txt")
    assert probe(breached, "os.open(path, os.O_CREAT | os.O_WRONLY, 0o666)", path=target) == "EACCES"
    assert not Path(target).exists()


def test_the_servers_process_cannot_be_read(breached: SandboxEnvironment) -> None:
    body = "open('/proc/%d/environ' % os.getppid(), 'rb').read()"
    assert probe(breached, body) == "EACCES"
    assert probe(breached, "os.listdir('/proc/self/fd')") == "EACCES"


def test_nothing_of_the_server_is_inherited(breached: SandboxEnvironment) -> None:
    context: dict[str, Any] = {}
    breached.execute(
        "import os, stat\n"
        "environment = dict(os.environ)\n"
        "uid = os.getuid()\n"
        "kinds = []\n"
        "for fd in range(64):\n"
        "    try:\n"
        "        mode = os.fstat(fd).st_mode\n"
        "    except OSError:\n"
        "        continue\n"
        "    kinds.append([fd, stat.S_ISFIFO(mode), stat.S_ISREG(mode), stat.S_ISSOCK(mode)])",
        context,
    )
    # Nothing of the server's environment (SECRET_KEY, DATABASE_URL...): only what the
    # interpreter sets for itself (PEP 538's locale).
    assert set(context["environment"]) <= {"LC_CTYPE"}
    if os.geteuid() == 0:
        assert context["uid"] != 0
    # Its pipes, and /dev/null on the standard streams: no database file, no socket.
    assert not [fd for fd, _fifo, regular, socket in context["kinds"] if regular or socket]
    assert sum(1 for _fd, fifo, _regular, _socket in context["kinds"] if fifo) == 2


def test_no_connection_to_the_database_server(breached: SandboxEnvironment) -> None:
    # The socket module is not loaded and cannot be (no file may be opened): libc directly.
    assert probe(breached, SOCKET_CONNECT) == "EPERM"


@pytest.mark.parametrize(
    "body",
    [
        "os.fork()",
        "os.execv('/bin/true', ['true'])",
        "os.posix_spawn('/bin/true', ['true'], {})",
    ],
)
def test_no_process_can_be_started(breached: SandboxEnvironment, body: str) -> None:
    assert probe(breached, body) in ("EPERM", "EAGAIN")


def test_the_server_cannot_be_signalled(breached: SandboxEnvironment) -> None:
    assert probe(breached, "os.kill(os.getppid(), 9)") == "EPERM"


def test_memory_limit_holds(breached: SandboxEnvironment) -> None:
    with pytest.raises(ScriptLimitExceeded) as info:
        breached.execute("x = bytearray(512 * 1024 * 1024)", {})
    assert info.value.limit == "memory"


def test_cpu_limit_holds_even_when_the_code_lifts_its_own(breached: SandboxEnvironment) -> None:
    script = (
        "import resource\n"
        "soft, hard = resource.getrlimit(resource.RLIMIT_CPU)\n"
        "resource.setrlimit(resource.RLIMIT_CPU, (hard, hard))\n"
        "while True:\n"
        "    pass"
    )
    with pytest.raises(ScriptLimitExceeded) as info:
        breached.execute(script, {})
    assert info.value.limit == "cpu"
    assert breached.evaluate("1 + 1", {}) == 2


def test_each_evaluation_runs_under_its_own_kernel_cpu_limit(breached: SandboxEnvironment) -> None:
    context: dict[str, Any] = {}
    breached.execute(
        "import math, os, resource, time\n"
        "soft, hard = resource.getrlimit(resource.RLIMIT_CPU)\n"
        "expected = math.ceil(time.process_time() + 0.2)\n"
        "memory = list(resource.getrlimit(resource.RLIMIT_AS))\n"
        "processes = list(resource.getrlimit(resource.RLIMIT_NPROC))\n"
        "files = list(resource.getrlimit(resource.RLIMIT_FSIZE))\n"
        "cores = list(resource.getrlimit(resource.RLIMIT_CORE))\n"
        "nice = os.getpriority(os.PRIO_PROCESS, 0)",
        context,
    )
    assert context["cores"] == [0, 0] and context["nice"] == 10  # the server's requests go first
    assert context["memory"] == [128 * 1024 * 1024] * 2
    assert context["processes"] == [0, 0] and context["files"] == [0, 0]
    # The soft limit was set for this evaluation (0.2 s more, in the kernel's whole seconds)...
    assert context["soft"] in (context["expected"], context["expected"] - 1)
    # ...under a hard limit that bounds the worker's whole life: about 1,000 uses of 0.2 s.
    assert 200 <= context["hard"] <= 215


def test_sigxcpu_from_the_kernel_is_reported_as_the_cpu_limit() -> None:
    pool = WorkerPool(Limits(workers=1))
    env = SandboxEnvironment(pool, {"signal": lambda: os.kill(next(iter(pool.busy)).pid, signal.SIGXCPU)})
    try:
        with pytest.raises(ScriptLimitExceeded) as info:
            env.evaluate("signal()", {})
        assert info.value.limit == "cpu"
    finally:
        pool.close()


def test_every_layer_is_active_on_this_machine(breached: SandboxEnvironment) -> None:
    layers = breached.pool.describe()
    assert layers["limits"] == "active"
    assert layers["landlock"].startswith("active")
    assert layers["seccomp"].startswith("active")
    assert layers["user"].startswith("active" if os.geteuid() == 0 else "not needed")


def test_seccomp_program_shape() -> None:
    denied = {"socket": 41, "execve": 59}
    program = lockdown.seccomp_program(denied, 0xC000003E)
    # arch check (3), load nr (1), x32 refusal (2), two instructions per denied call, allow (1)
    assert len(program) == 8 * (3 + 1 + 2 + 2 * len(denied) + 1)
    assert all(number in lockdown.DENIED_X86_64.values() for number in (41, 42, 56, 57, 59, 62, 101, 322))


def test_seccomp_refuses_an_architecture_it_has_no_table_for(monkeypatch: pytest.MonkeyPatch) -> None:
    # apply() turns this OSError into "unavailable: ..." and the other layers still apply.
    monkeypatch.setattr(lockdown.platform, "machine", lambda: "riscv64")
    with pytest.raises(OSError, match="riscv64"):
        lockdown.filter_syscalls()


# Each layer on its own: with the other one left out, what it still refuses.
SOCKET_CONNECT = (
    "import ctypes, struct\n"
    "libc = ctypes.CDLL(None, use_errno=True)\n"
    "fd = libc.socket(2, 1, 0)\n"
    "if fd < 0:\n"
    "    raise OSError(ctypes.get_errno(), 'socket')\n"
    "address = struct.pack('!HH4s8x', 2, 5432, bytes([127, 0, 0, 1]))\n"
    "if libc.connect(fd, address, len(address)) < 0:\n"
    "    raise OSError(ctypes.get_errno(), 'connect')"
)


def _only(layer_left_out: str) -> SandboxEnvironment:
    limits = Limits(unrestricted_for_tests=True, cpu_seconds=0.2, skip_layers_for_tests=(layer_left_out,))
    return SandboxEnvironment(WorkerPool(limits), unrestricted=True)


def test_seccomp_alone_refuses_sockets_processes_and_signals() -> None:
    env = _only("landlock")
    try:
        assert env.pool.describe()["landlock"].startswith("skipped")
        assert probe(env, SOCKET_CONNECT) == "EPERM"
        assert probe(env, "os.execv('/bin/true', ['true'])") == "EPERM"
        assert probe(env, "os.fork()") == "EPERM"
        assert probe(env, "os.kill(os.getppid(), 0)") == "EPERM"
    finally:
        env.pool.close()


def test_landlock_alone_refuses_files_connections_and_signals(secrets_on_disk: dict[str, Path]) -> None:
    env = _only("seccomp")
    try:
        assert env.pool.describe()["seccomp"].startswith("skipped")
        assert probe(env, "open(path).read()", path=str(secrets_on_disk["readable"])) == "EACCES"
        # Refused by this kernel's Landlock at socket() (or at connect() on older ones).
        assert probe(env, SOCKET_CONNECT) in ("EACCES", "EAFNOSUPPORT")
        assert probe(env, "os.kill(os.getppid(), 0)") == "EPERM"
        assert probe(env, "os.fork()") == "EAGAIN"  # RLIMIT_NPROC
    finally:
        env.pool.close()


def test_a_worker_that_breaks_the_protocol_is_replaced(breached: SandboxEnvironment) -> None:
    # Broken-out code writes to the server's pipe itself: a frame claiming 4 GB.
    script = (
        "import os\nfor fd in range(3, 10):\n    try:\n        os.write(fd, b'\\xff\\xff\\xff\\xff')\n"
        "    except OSError:\n        pass\nwhile True:\n    pass"
    )
    with pytest.raises(ScriptCrashed, match="over the limit"):
        breached.execute(script, {})
    assert breached.evaluate("1 + 1", {}) == 2


def test_an_exception_without_a_printable_message_is_still_reported(breached: SandboxEnvironment) -> None:
    script = "class Odd(Exception):\n    def __str__(self):\n        raise ValueError()\nraise Odd()"
    with pytest.raises(ScriptRaised, match=r"^Odd: \(no message\)$"):
        breached.execute(script, {})
    with pytest.raises(ScriptRaised) as info:
        breached.execute("raise ValueError('x' * 5000)", {})
    assert str(info.value) == "ValueError: " + "x" * 2000


def test_unrestricted_code_needs_a_pool_made_for_tests() -> None:
    pool = WorkerPool(Limits(workers=1))
    env = SandboxEnvironment(pool, unrestricted=True)
    try:
        with pytest.raises(ScriptRejected, match="import statements are not allowed"):
            env.execute("import os", {})
        with pytest.raises(ScriptRejected):
            env.evaluate("().__class__", {})
    finally:
        pool.close()


def test_a_worker_answering_out_of_turn_serves_nobody_again(breached: SandboxEnvironment) -> None:
    # Broken-out code sends a well-framed message that is no answer, then keeps the CPU busy:
    # kept in the pool, it would make the next evaluation (another instance's) fail.
    script = forged_frame(b'{"forged": 1}', "while True:\n    pass")
    with pytest.raises(ScriptCrashed) as info:
        breached.execute(script, {})
    assert str(info.value) == "the sandbox worker broke its protocol"
    started = time.monotonic()
    assert breached.evaluate("2 + 2", {}) == 4
    assert time.monotonic() - started < 3.0


def test_the_denied_system_calls_are_numbered_as_this_kernel_numbers_them() -> None:
    # linux-libc-dev's table (installed with the compiler) is the kernel's own numbering.
    header = Path("/usr/include/x86_64-linux-gnu/asm/unistd_64.h").read_text()
    numbers = {match[1]: int(match[2]) for match in re.finditer(r"#define __NR_(\w+) (\d+)", header)}
    assert {name: numbers.get(name) for name in lockdown.DENIED_X86_64} == lockdown.DENIED_X86_64


def test_system_calls_through_the_x32_abi_are_refused(breached: SandboxEnvironment) -> None:
    # socket(2) by its x32 number: without the filter's x32 rule it would bypass the table.
    body = (
        "import ctypes\n"
        "libc = ctypes.CDLL(None, use_errno=True)\n"
        "if libc.syscall(0x40000000 | 41, 2, 1, 0) < 0:\n"
        "    raise OSError(ctypes.get_errno(), 'socket')"
    )
    assert probe(breached, body) == "EPERM"


def test_an_answer_of_the_wrong_kind_is_no_result(breached: SandboxEnvironment) -> None:
    # Broken-out code answers an expression as if it were a script, then exits.
    forge = forged_frame(b'{"data": {}}', "os._exit(0)")
    with pytest.raises(ScriptValueError, match="^the sandbox worker gave no result$"):
        breached.evaluate("exec(forge)", {"forge": forge})
    assert breached.evaluate("3 * 3", {}) == 9


def test_inheritable_descriptors_of_the_server_are_not_passed_on(tmp_path: Path) -> None:
    secret = os.open(tmp_path / "open-in-server", os.O_CREAT | os.O_RDWR)
    os.set_inheritable(secret, True)
    pool = WorkerPool(Limits(unrestricted_for_tests=True, workers=1))
    try:
        env = SandboxEnvironment(pool, unrestricted=True)
        assert probe(env, "os.fstat(fd)", fd=secret) == "EBADF"
    finally:
        pool.close()
        os.close(secret)


def test_a_worker_that_stops_reading_cannot_hold_the_server() -> None:
    pool = WorkerPool(Limits(unrestricted_for_tests=True, workers=1, wall_seconds=1))
    env = SandboxEnvironment(pool, unrestricted=True)
    try:
        # Broken-out code makes its worker stop reading requests...
        stop_reading = "sys.modules['sandbox.worker']._Channel.receive = lambda s: time.sleep(30)"
        env.execute(f"import sys, time\n{stop_reading}", {})
        started = time.monotonic()
        # ...and the next request, larger than a pipe holds, cannot be written whole.
        with pytest.raises(ScriptLimitExceeded) as info:
            env.evaluate("len(big)", {"big": "a" * 300_000})
        assert info.value.limit == "time"
        assert time.monotonic() - started < 4
    finally:
        pool.close()


def test_a_worker_that_exits_in_the_middle_is_replaced_then_blamed(breached: SandboxEnvironment) -> None:
    with pytest.raises(ScriptCrashed) as info:
        breached.execute("import os\nos._exit(0)", {})
    assert str(info.value) == "the sandbox worker exited (status 0) twice while running this code"
    assert breached.evaluate("2 * 21", {}) == 42


def test_the_seccomp_program_instruction_by_instruction() -> None:
    program = lockdown.seccomp_program({"socket": 41}, 0xC000003E)
    instructions = [struct.unpack("=HBBI", program[i : i + 8]) for i in range(0, len(program), 8)]
    assert instructions == [
        (0x20, 0, 0, 4),  # load the architecture
        (0x15, 1, 0, 0xC000003E),  # x86-64: skip the next
        (0x06, 0, 0, 0x80000000),  # anything else: kill the process
        (0x20, 0, 0, 0),  # load the system call number
        (0x35, 0, 1, 0x40000000),  # the x32 ABI...
        (0x06, 0, 0, 0x00050001),  # ...is refused with EPERM
        (0x15, 0, 1, 41),  # socket...
        (0x06, 0, 0, 0x00050001),  # ...is refused with EPERM
        (0x06, 0, 0, 0x7FFF0000),  # everything else is allowed
    ]


def test_landlock_constants_are_the_kernels() -> None:
    header = Path("/usr/include/linux/landlock.h").read_text()
    pattern = r"#define LANDLOCK_ACCESS_FS_(\w+)\s+\(1ULL << (\d+)\)"
    bits = {m[1]: int(m[2]) for m in re.finditer(pattern, header)}
    version = re.search(r"#define LANDLOCK_CREATE_RULESET_VERSION\s+\(1U << (\d+)\)", header)
    assert version is not None and 1 << int(version[1]) == lockdown._LANDLOCK_CREATE_RULESET_VERSION
    assert lockdown._FS_RIGHTS_BY_ABI[1] == sum(1 << bit for bit in bits.values() if bit <= bits["MAKE_SYM"])
    assert lockdown._FS_RIGHTS_BY_ABI[2] == (1 << (bits["REFER"] + 1)) - 1
    # Newer than this header (Linux 6.1), as the kernel's UAPI numbers them: TRUNCATE 1 << 14
    # (ABI 3), IOCTL_DEV 1 << 15 (ABI 5), TCP bind and connect 1 << 0 and 1 << 1 (ABI 4), the
    # abstract-unix-socket and signal scopes 1 << 0 and 1 << 1 (ABI 6).
    by_abi = {1: (1 << 13) - 1, 2: (1 << 14) - 1, 3: (1 << 15) - 1, 5: (1 << 16) - 1}
    assert by_abi == lockdown._FS_RIGHTS_BY_ABI
    assert (lockdown._NET_BIND_TCP, lockdown._NET_CONNECT_TCP) == (1, 2)
    assert (lockdown._SCOPE_ABSTRACT_UNIX_SOCKET, lockdown._SCOPE_SIGNAL) == (1, 2)


def test_a_failing_system_call_says_which_and_why() -> None:
    ctypes.set_errno(errno.EPERM)
    with pytest.raises(OSError) as info:
        lockdown._check(-1, "landlock ruleset")
    assert info.value.errno == errno.EPERM
    assert str(info.value) == "[Errno 1] landlock ruleset: Operation not permitted"
    assert lockdown._check(3, "fine") == 3


def test_a_frame_that_is_not_a_message_is_refused(breached: SandboxEnvironment) -> None:
    forge = forged_frame(b"[1, 2]", "while True:\n    pass")
    with pytest.raises(ScriptCrashed) as info:
        breached.evaluate("exec(forge)", {"forge": forge})
    assert str(info.value) == "the worker sent something that is not a message twice while running this code"
