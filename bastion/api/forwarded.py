"""The client address and scheme a trusted proxy forwarded, applied to the scope.

What uvicorn's ``ProxyHeadersMiddleware`` does (``--proxy-headers``, on by default, trusting
``--forwarded-allow-ips``), as a function: ``DrainGate`` takes that middleware's place in
front of the app, so that a request crosses one layer instead of two (``api/drain.py``).
"""

from __future__ import annotations

from typing import Protocol

from starlette.types import Scope

_SCHEMES = frozenset({"http", "https", "ws", "wss"})


class TrustedHosts(Protocol):
    """uvicorn's ``_TrustedHosts``: which peers may forward, and the client they name."""

    def __contains__(self, host: str | None) -> bool: ...

    def get_trusted_client_address(self, x_forwarded_for: str) -> tuple[str, int]: ...


def apply_forwarded(scope: Scope, trusted: TrustedHosts) -> None:
    """From a trusted peer: ``X-Forwarded-Proto`` sets the scheme, the rightmost untrusted
    address of ``X-Forwarded-For`` the client (exactly as uvicorn's middleware)."""
    client = scope.get("client")
    if (client[0] if client else None) not in trusted:
        return
    proto: bytes | None = None
    chain: list[bytes] = []
    for name, value in scope["headers"]:
        if name == b"x-forwarded-proto":
            proto = value
        elif name == b"x-forwarded-for":
            chain.append(value)
    if proto is not None:
        scheme = proto.decode("latin1").strip()
        if scheme in _SCHEMES:
            scope["scheme"] = (
                scheme.replace("http", "ws") if scope["type"] == "websocket" else scheme
            )
    if chain:
        host, port = trusted.get_trusted_client_address(b", ".join(chain).decode("latin1"))
        if host:
            scope["client"] = (host, port)
