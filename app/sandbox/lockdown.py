"""What a worker does to itself after its imports, before it reads any diagram code.

Each layer protects against something the others do not:
- resource limits (the kernel): address space, CPU seconds, no files written, no processes;
- an unprivileged user (when started as root): no root powers, no other user's files;
- Landlock (the kernel): no file opened at all, no TCP connection, no signal to a process
  outside the worker;
- seccomp (the kernel): no socket, no exec, no process or thread created, no ptrace, no signal
  sent, no priority raised.
A layer this machine does not offer is reported and the others still apply.
"""

from __future__ import annotations

import ctypes
import errno
import math
import os
import platform
import resource
import struct
import time
from collections.abc import Mapping
from typing import Any

PR_SET_NO_NEW_PRIVS = 38
PR_SET_SECCOMP = 22
SECCOMP_MODE_FILTER = 2

_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long
_libc.prctl.restype = ctypes.c_int


def _check(result: int, what: str) -> int:
    if result < 0:
        code = ctypes.get_errno()
        raise OSError(code, f"{what}: {os.strerror(code)}")
    return result


def apply(config: Mapping[str, Any]) -> dict[str, str]:
    """Apply every layer; for each, 'active' or why it is not."""
    layers: dict[str, str] = {}
    layers["limits"] = set_limits(
        int(config["memory_bytes"]), float(config["cpu_seconds"]), int(config["uses"])
    )
    layers["user"] = drop_privileges(config.get("uid"), config.get("gid"))
    _check(_libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no_new_privs")
    for name, layer in (("landlock", restrict_filesystem_and_network), ("seccomp", filter_syscalls)):
        if name in config.get("skip_for_tests", ()):
            layers[name] = "skipped (a test shows the other layers alone)"
            continue
        try:
            layers[name] = layer()
        except OSError as exc:
            layers[name] = f"unavailable: {exc}"
    return layers


def set_limits(memory_bytes: int, cpu_seconds: float, uses: int) -> str:
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    # Counted per user: the workers' user runs nothing else, so none of them can fork.
    resource.setrlimit(resource.RLIMIT_NPROC, (0, 0))
    # Each evaluation's own limit is set by limit_cpu; the hard limit bounds the worker's life.
    lifetime = time.process_time() + 10 + math.ceil(cpu_seconds * uses)
    resource.setrlimit(resource.RLIMIT_CPU, (math.ceil(time.process_time()) + 10, math.ceil(lifetime)))
    os.setpriority(os.PRIO_PROCESS, 0, 10)  # the server's requests go first
    return "active"


def limit_cpu(cpu_seconds: float) -> None:
    """SIGXCPU once this evaluation has used `cpu_seconds` more (whole seconds: the kernel's
    unit). Untrusted code that broke out could raise it up to the hard limit, so the server also
    watches the worker's CPU clock and kills it."""
    _, hard = resource.getrlimit(resource.RLIMIT_CPU)
    soft = math.ceil(time.process_time() + cpu_seconds)
    resource.setrlimit(resource.RLIMIT_CPU, (min(soft, hard), hard))


def drop_privileges(uid: int | None, gid: int | None) -> str:
    if os.geteuid() != 0:
        return "not needed (not started as root)"
    if uid is None or gid is None:
        raise RuntimeError("started as root without a user to drop to")
    os.setgroups([])
    os.setresgid(gid, gid, gid)
    os.setresuid(uid, uid, uid)
    if os.geteuid() == 0 or os.getegid() == 0:
        raise RuntimeError("could not leave root")
    return f"active (uid {uid})"


# Landlock (linux/landlock.h)
_LANDLOCK_CREATE_RULESET, _LANDLOCK_RESTRICT_SELF = 444, 446
_LANDLOCK_CREATE_RULESET_VERSION = 1
_FS_RIGHTS_BY_ABI = {1: (1 << 13) - 1, 2: (1 << 14) - 1, 3: (1 << 15) - 1, 5: (1 << 16) - 1}
_NET_BIND_TCP, _NET_CONNECT_TCP = 1, 2
_SCOPE_ABSTRACT_UNIX_SOCKET, _SCOPE_SIGNAL = 1, 2


def restrict_filesystem_and_network() -> str:
    abi = _libc.syscall(_LANDLOCK_CREATE_RULESET, None, 0, _LANDLOCK_CREATE_RULESET_VERSION)
    if abi < 0:
        raise OSError(ctypes.get_errno(), "Landlock is not supported by this kernel")
    fs = max(rights for level, rights in _FS_RIGHTS_BY_ABI.items() if level <= abi)
    # The attribute grew with the ABI: handled file rights, then TCP, then scopes.
    if abi >= 6:
        attr = struct.pack("=QQQ", fs, _NET_BIND_TCP | _NET_CONNECT_TCP,
                           _SCOPE_ABSTRACT_UNIX_SOCKET | _SCOPE_SIGNAL)  # fmt: skip
    elif abi >= 4:
        attr = struct.pack("=QQ", fs, _NET_BIND_TCP | _NET_CONNECT_TCP)
    else:
        attr = struct.pack("=Q", fs)
    buffer = ctypes.create_string_buffer(attr, len(attr))
    # Every right handled and no rule added: nothing may be opened, bound or connected to.
    ruleset = _check(_libc.syscall(_LANDLOCK_CREATE_RULESET, buffer, len(attr), 0), "landlock ruleset")
    try:
        _check(_libc.syscall(_LANDLOCK_RESTRICT_SELF, ruleset, 0), "landlock restrict_self")
    finally:
        os.close(ruleset)
    return f"active (ABI {abi})"


# seccomp: a classic BPF program over struct seccomp_data {int nr; u32 arch; ...}
_AUDIT_ARCH_X86_64 = 0xC000003E
_X32_SYSCALL_BIT = 0x40000000
_RET_ALLOW = 0x7FFF0000
_RET_ERRNO = 0x00050000
_RET_KILL_PROCESS = 0x80000000
_LD_W_ABS, _JEQ_K, _JGE_K, _RET_K = 0x20, 0x15, 0x35, 0x06
# x86_64 numbers of what a worker never needs and untrusted code must not have.
DENIED_X86_64 = {
    "socket": 41, "connect": 42, "accept": 43, "bind": 49, "listen": 50, "socketpair": 53,
    "accept4": 288, "clone": 56, "fork": 57, "vfork": 58, "execve": 59, "execveat": 322,
    "clone3": 435, "kill": 62, "tkill": 200, "tgkill": 234, "rt_sigqueueinfo": 129,
    "rt_tgsigqueueinfo": 297, "pidfd_open": 434, "pidfd_send_signal": 424, "pidfd_getfd": 438,
    "ptrace": 101, "process_vm_readv": 310, "process_vm_writev": 311, "setpriority": 141,
    "setuid": 105, "setgid": 106, "setreuid": 113,
    "setregid": 114, "setresuid": 117, "setresgid": 119, "setgroups": 116, "setfsuid": 122,
    "setfsgid": 123, "mount": 165, "umount2": 166, "pivot_root": 155, "chroot": 161,
    "unshare": 272, "setns": 308, "bpf": 321, "perf_event_open": 298, "userfaultfd": 323,
    "io_uring_setup": 425, "io_uring_enter": 426, "io_uring_register": 427, "keyctl": 250,
    "add_key": 248, "request_key": 249, "init_module": 175, "finit_module": 313,
    "delete_module": 176, "kexec_load": 246, "kexec_file_load": 320, "reboot": 169, "swapon": 167,
    "swapoff": 168, "personality": 135, "iopl": 172, "ioperm": 173, "modify_ldt": 154,
    "open_by_handle_at": 304, "name_to_handle_at": 303, "acct": 163, "mknod": 133, "mknodat": 259,
}  # fmt: skip


def seccomp_program(denied: Mapping[str, int], arch: int) -> bytes:
    """A filter that kills a process calling in from another architecture, refuses the x32 ABI
    and the denied calls with EPERM, and allows the rest."""

    def op(code: int, k: int, jt: int = 0, jf: int = 0) -> bytes:
        return struct.pack("=HBBI", code, jt, jf, k)

    eperm = _RET_ERRNO | errno.EPERM
    program = [op(_LD_W_ABS, 4), op(_JEQ_K, arch, 1, 0), op(_RET_K, _RET_KILL_PROCESS), op(_LD_W_ABS, 0)]
    program += [op(_JGE_K, _X32_SYSCALL_BIT, 0, 1), op(_RET_K, eperm)]
    for number in sorted(denied.values()):
        program += [op(_JEQ_K, number, 0, 1), op(_RET_K, eperm)]
    program.append(op(_RET_K, _RET_ALLOW))
    return b"".join(program)


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


def filter_syscalls() -> str:
    if platform.machine() != "x86_64":
        raise OSError(errno.ENOSYS, f"no system call table for {platform.machine()}")
    program = seccomp_program(DENIED_X86_64, _AUDIT_ARCH_X86_64)
    buffer = ctypes.create_string_buffer(program, len(program))
    fprog = _SockFprog(len(program) // 8, ctypes.addressof(buffer))
    _check(_libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(fprog), 0, 0), "seccomp")
    return f"active ({len(DENIED_X86_64)} system calls denied)"
