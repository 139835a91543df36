"""Hosts for the scale-out test: each in a network namespace of its own, joined to this one by a
veth pair (iproute2), reaching PostgreSQL through a forwarder on its link's host address. Where
namespaces cannot be made, hosts are loopback addresses and a link is cut at its forwarder.

PostgreSQL listens on 127.0.0.1 only, which another namespace cannot reach: the forwarder on the
host side of each link is the way through, and taking the link down (or cutting the forwarder)
cuts that host off the database as a network fault would."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from dataclasses import dataclass, field

from tests.tcp_proxy import TcpProxy

PREFIX = "awf"  # the namespaces and links this test makes, removed afterwards


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, text=True, timeout=10)


@dataclass
class Host:
    name: str
    address: str  # where this host's server listens, as seen from the test
    database: TcpProxy
    namespace: str | None = None
    link: str | None = None  # the host side of its veth pair
    cut_at: list[float] = field(default_factory=list)

    def command(self, argv: list[str]) -> list[str]:
        """`argv` run inside this host (its namespace, when it has one)."""
        return ["ip", "netns", "exec", self.namespace, *argv] if self.namespace else argv

    def database_url(self, database: str) -> str:
        return f"postgresql+psycopg://postgres@{self.database.host}:{self.database.port}/{database}"

    def cut(self) -> None:
        """Take the host off the network mid-work: its link down, or its forwarder cut."""
        if self.link:
            _ip("link", "set", self.link, "down")
        else:
            self.database.cut()

    def mend(self) -> None:
        if self.link:
            _ip("link", "set", self.link, "up")
        else:
            self.database.mend()


class Network:
    def __init__(self, postgres: tuple[str, int]) -> None:
        self.postgres = postgres
        self.hosts: list[Host] = []
        self.namespaces = False
        self.why_not = ""

    def __enter__(self) -> Network:
        self.namespaces, self.why_not = self._can_make_namespaces()
        return self

    def add(self, name: str) -> Host:
        number = len(self.hosts) + 1
        if not self.namespaces:
            proxy = TcpProxy(self.postgres).start()
            host = Host(name, "127.0.0.1", proxy)
        else:
            namespace, outside, inside = f"{PREFIX}{number}", f"{PREFIX}{number}h", f"{PREFIX}{number}n"
            host_ip, ns_ip = f"10.231.{number}.1", f"10.231.{number}.2"
            _ip("netns", "add", namespace)
            _ip("link", "add", outside, "type", "veth", "peer", "name", inside)
            _ip("link", "set", inside, "netns", namespace)
            _ip("addr", "add", f"{host_ip}/24", "dev", outside)
            _ip("link", "set", outside, "up")
            _ip("netns", "exec", namespace, "ip", "addr", "add", f"{ns_ip}/24", "dev", inside)
            _ip("netns", "exec", namespace, "ip", "link", "set", inside, "up")
            _ip("netns", "exec", namespace, "ip", "link", "set", "lo", "up")
            proxy = TcpProxy(self.postgres, host=host_ip).start()
            host = Host(name, ns_ip, proxy, namespace, outside)
        self.hosts.append(host)
        return host

    def __exit__(self, *_exc: object) -> None:
        for host in self.hosts:
            host.database.cut()
        self.remove_namespaces()

    @staticmethod
    def remove_namespaces() -> None:
        if shutil.which("ip") is None:
            return
        listed = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout.split("\n")
        for line in listed:
            name = line.split(" ")[0]
            if name.startswith(PREFIX):
                with contextlib.suppress(subprocess.CalledProcessError):
                    _ip("netns", "del", name)  # its end of the veth pair goes with it, and so the pair

    @staticmethod
    def _can_make_namespaces() -> tuple[bool, str]:
        if os.environ.get("SCALE_OUT_LOOPBACK"):
            return False, "SCALE_OUT_LOOPBACK is set"
        if shutil.which("ip") is None:
            return False, "iproute2's `ip` is not installed"
        Network.remove_namespaces()  # what an interrupted run left
        try:
            _ip("netns", "add", f"{PREFIX}probe")
            _ip("netns", "del", f"{PREFIX}probe")
        except (subprocess.CalledProcessError, OSError) as exc:
            detail = getattr(exc, "stderr", "") or str(exc)
            return False, f"network namespaces cannot be made here ({detail.strip()})"
        return True, ""
