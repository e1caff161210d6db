"""A network namespace of its own for one replica (``ip netns``), joined to the host by a veth
pair: the replica sees nothing of the host's 127.0.0.1, only the host's end of the pair, where
the test forwards the shared services. Skips, saying why, where namespaces cannot be made."""

from __future__ import annotations

import secrets
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pytest


@dataclass(frozen=True)
class Namespace:
    name: str
    host_ip: str  # the host's end: where the replica reaches the forwarded services
    ns_ip: str  # the replica's address

    def exec(self) -> list[str]:
        return ["ip", "netns", "exec", self.name]


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, text=True, timeout=30)


@contextmanager
def namespace() -> Iterator[Namespace]:
    if shutil.which("ip") is None:
        pytest.skip("no `ip` command (iproute2): cannot build a network namespace")
    tag = secrets.token_hex(3)
    name, host_if, ns_if = f"bst{tag}", f"bst{tag}h", f"bst{tag}n"
    third = int(tag[:2], 16) % 250 + 1
    host_ip, ns_ip = f"10.231.{third}.1", f"10.231.{third}.2"
    try:
        _ip("netns", "add", name)
    except subprocess.CalledProcessError as exc:
        pytest.skip(f"`ip netns add` is not allowed here ({exc.stderr.strip()}): no namespace")
    try:
        _ip("link", "add", host_if, "type", "veth", "peer", "name", ns_if)
        _ip("link", "set", ns_if, "netns", name)
        _ip("addr", "add", f"{host_ip}/30", "dev", host_if)
        _ip("link", "set", host_if, "up")
        _ip("netns", "exec", name, "ip", "addr", "add", f"{ns_ip}/30", "dev", ns_if)
        _ip("netns", "exec", name, "ip", "link", "set", ns_if, "up")
        _ip("netns", "exec", name, "ip", "link", "set", "lo", "up")
        yield Namespace(name, host_ip, ns_ip)
    finally:
        subprocess.run(["ip", "link", "del", host_if], check=False, capture_output=True, timeout=30)
        subprocess.run(["ip", "netns", "del", name], check=False, capture_output=True, timeout=30)
