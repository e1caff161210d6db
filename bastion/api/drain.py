"""Draining at shutdown, as the app sees it: readiness turns not-ready first, and a request the
server cuts when ``server.graceful_timeout_s`` has passed gets a JSON 503, not a bare-text 500.

The server (``bastion.cli.server``) marks ``Drain.started`` on SIGTERM, keeps the listener open
for ``server.drain_delay_s`` so that load balancers see the failing readiness probe and stop
sending, then stops accepting, waits for requests in flight and finally cancels the rest with
``CUT_BY_SHUTDOWN`` (``bastion.core.shutdown``).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from bastion.api.forwarded import TrustedHosts, apply_forwarded
from bastion.core.shutdown import cut_by_shutdown
from bastion.errors import ShuttingDown

_READINESS = frozenset({"/readyz", "/v2/health/ready"})
_JSON = (b"content-type", b"application/json")


@dataclass(slots=True)
class Drain:
    """Set by the server process; read by ``DrainGate`` on each request. Under a supervisor
    of several workers, the drain has started once the supervisor wrote ``marker``."""

    started: bool = False
    marker: Path | None = None

    def draining(self) -> bool:
        """Whether readiness should answer 503 (the marker is looked at, not remembered)."""
        return self.started or (self.marker is not None and self.marker.exists())


class DrainGate:
    """Pure ASGI: answers readiness 503 while draining; turns a shutdown cut into a JSON 503.
    With ``trusted``, it first applies the forwarded client and scheme of a trusted proxy
    (``around`` puts it in the place of uvicorn's ``ProxyHeadersMiddleware``)."""

    def __init__(self, app: Any, drain: Drain, trusted: TrustedHosts | None = None) -> None:
        self.app = app
        self.drain = drain
        self.trusted = trusted

    @classmethod
    def around(cls, app: Any, drain: Drain) -> DrainGate:
        """The gate in front of the app uvicorn loaded: a ``ProxyHeadersMiddleware`` uvicorn
        put there (proxy headers on) is unwrapped and done by the gate, one layer less."""
        from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

        if isinstance(app, ProxyHeadersMiddleware):
            return cls(app.app, drain, app.trusted_hosts)
        return cls(app, drain)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            if self.trusted is not None and scope["type"] == "websocket":
                apply_forwarded(scope, self.trusted)
            await self.app(scope, receive, send)
            return
        if self.trusted is not None:
            apply_forwarded(scope, self.trusted)
        if scope.get("path") in _READINESS and self.drain.draining():
            await _send(send, 503, {"ready": False, "draining": True})
            return
        started = False

        async def tracked(message: Any) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracked)
        except asyncio.CancelledError as exc:
            if started or not cut_by_shutdown(exc):
                raise
            rid = str(scope.get("state", {}).get("request_id", ""))
            err = ShuttingDown(
                "the server shut down before this request finished; send it again (another "
                "replica, or this one once it is back)"
            )
            body = {"error": {"type": err.type, "message": err.message, "request_id": rid}}
            await _send(send, 503, body, [(b"x-request-id", rid.encode())])


async def _send(
    send: Any, status: int, body: dict[str, Any], extra: list[tuple[bytes, bytes]] | None = None
) -> None:
    raw = orjson.dumps(body)
    headers = [_JSON, (b"content-length", str(len(raw)).encode()), (b"connection", b"close")]
    headers += extra or []
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": raw})
