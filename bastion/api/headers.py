"""Secure response headers, as a pure ASGI middleware: ``nosniff`` on every response,
``no-store`` on the admin API (where key secrets are answered), and a strict CSP with
``frame-ancestors 'none'`` on the HTML API docs (/docs, /redoc).

The docs pages carry one inline script each (FastAPI's bootstrap of Swagger UI / ReDoc); the
CSP allows exactly that script by its sha256, computed from the page as it is sent, so no
``'unsafe-inline'`` script is ever allowed. The web console (/console) sets its own headers.
"""

from __future__ import annotations

import base64
import hashlib
import re

from starlette.types import ASGIApp, Message, Receive, Scope, Send

DOCS = frozenset({"/docs", "/redoc", "/docs/oauth2-redirect"})
_CDN = "https://cdn.jsdelivr.net"
_INLINE_SCRIPT = re.compile(rb"<script>(.*?)</script>", re.DOTALL)


def docs_policy(html: bytes) -> str:
    """The CSP of one docs page: its inline scripts by hash, assets from the CDN only."""
    hashes = "".join(
        f"'sha256-{base64.b64encode(hashlib.sha256(m).digest()).decode()}' "
        for m in _INLINE_SCRIPT.findall(html)
    )
    return (
        "default-src 'none'; "
        f"script-src {hashes}{_CDN}; "
        f"style-src {_CDN} https://fonts.googleapis.com 'unsafe-inline'; "
        "font-src https://fonts.gstatic.com; "
        "img-src 'self' data: https://fastapi.tiangolo.com; "
        "connect-src 'self'; worker-src blob:; "
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    )


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        if path in DOCS:
            await self._docs(scope, receive, send)
            return
        admin = path.startswith("/v1/admin/")

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                if not any(k == b"x-content-type-options" for k, _ in headers):
                    headers.append((b"x-content-type-options", b"nosniff"))
                if admin and not any(k == b"cache-control" for k, _ in headers):
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, with_headers)

    async def _docs(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Hold the (small) page to hash its inline script, then send it with the CSP."""
        start: Message | None = None
        body = bytearray()

        async def hold(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
                return
            if message["type"] == "http.response.body":
                body.extend(message.get("body", b""))
                if message.get("more_body", False):
                    return
                assert start is not None
                headers = [(k, v) for k, v in start.get("headers", []) if k != b"content-length"]
                headers += [
                    (b"content-length", str(len(body)).encode()),
                    (b"x-content-type-options", b"nosniff"),
                    (b"content-security-policy", docs_policy(bytes(body)).encode()),
                    (b"x-frame-options", b"DENY"),
                    (b"referrer-policy", b"no-referrer"),
                ]
                await send({**start, "headers": headers})
                await send({"type": "http.response.body", "body": bytes(body)})
                return
            await send(message)

        await self.app(scope, receive, hold)
