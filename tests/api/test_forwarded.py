"""DrainGate in the place of uvicorn's ProxyHeadersMiddleware: the same client and scheme."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.types import Receive, Scope, Send
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from bastion.api.drain import Drain, DrainGate

CASES: list[tuple[str, tuple[str, int] | None, list[tuple[bytes, bytes]]]] = [
    (
        "http",
        ("127.0.0.1", 5),
        [(b"x-forwarded-for", b"1.2.3.4"), (b"x-forwarded-proto", b"https")],
    ),
    ("http", ("127.0.0.1", 5), [(b"x-forwarded-for", b"1.2.3.4, 10.0.0.1")]),
    (
        "http",
        ("127.0.0.1", 5),
        [(b"x-forwarded-for", b"9.9.9.9"), (b"x-forwarded-for", b"[::1]:8")],
    ),
    ("http", ("127.0.0.1", 5), [(b"x-forwarded-proto", b"gopher")]),
    ("http", ("10.1.1.1", 5), [(b"x-forwarded-for", b"1.2.3.4"), (b"x-forwarded-proto", b"https")]),
    ("http", None, [(b"x-forwarded-for", b"1.2.3.4")]),
    ("websocket", ("127.0.0.1", 5), [(b"x-forwarded-proto", b"https")]),
    ("lifespan", None, []),
]


@pytest.mark.parametrize("trusted", ["127.0.0.1", "127.0.0.1, 10.0.0.0/8", "*"])
@pytest.mark.parametrize(("kind", "client", "headers"), CASES)
async def test_the_gate_forwards_as_uvicorns_middleware(
    trusted: str,
    kind: str,
    client: tuple[str, int] | None,
    headers: list[tuple[bytes, bytes]],
) -> None:
    seen: list[tuple[Any, Any]] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append((scope.get("client"), scope.get("scheme")))

    def scope() -> dict[str, Any]:
        made = {"type": kind, "scheme": "http", "path": "/v1/models", "headers": headers}
        return {**made, "client": client} if client else made

    proxy = ProxyHeadersMiddleware(app, trusted_hosts=trusted)  # type: ignore[arg-type]
    gate = DrainGate.around(proxy, Drain())
    assert gate.app is app and gate.trusted is proxy.trusted_hosts  # one layer, not two
    await proxy(scope(), None, None)  # type: ignore[arg-type]
    await gate(scope(), None, None)
    assert seen[0] == seen[1]


def test_without_proxy_headers_the_gate_wraps_the_app_itself() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        pass

    gate = DrainGate.around(app, Drain())
    assert gate.app is app and gate.trusted is None
