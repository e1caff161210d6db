"""The request edge: request id, security headers, gatekeeper and body limit in one ASGI pass.

``RequestContext``, ``SecurityHeaders``, ``Gatekeeper`` and ``BodyLimit`` stacked in that
order (outermost first) each wrapped ``send`` in a closure of its own and added a coroutine
frame to every request. ``RequestEdge`` does the same work, in the same order, with one
``send`` wrapper: the response start gets ``nosniff`` (and ``no-store`` on the admin API)
if absent, then the ``x-request-id``; its status decides, after the answer, whether the
gatekeeper records a refusal. The HTML docs pages (their CSP hashes the page as sent) take
the four classes themselves: rare, and exactly as before.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bastion.api.gatekeeper import Gatekeeper, admit, is_public, record_answer
from bastion.api.headers import DOCS, SecurityHeaders
from bastion.api.middleware import BodyLimit, assign_request_id, counting, refused_by_length
from bastion.services import Services


class RequestEdge:
    """As ``RequestContext(SecurityHeaders(Gatekeeper(BodyLimit(app, **limits))))``."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_bytes: int,
        max_admin_bytes: int,
        max_admin_json_bytes: int | None = None,
    ) -> None:
        self.app = app
        self._limits = BodyLimit(
            app,
            max_bytes=max_bytes,
            max_admin_bytes=max_admin_bytes,
            max_admin_json_bytes=max_admin_json_bytes,
        )
        self._docs = SecurityHeaders(Gatekeeper(self._limits))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = assign_request_id(scope)
        path = scope["path"]
        if path in DOCS:
            await self._docs(scope, receive, _with_id(send, rid))
            return
        admin = path.startswith("/v1/admin/")
        status = 0

        async def edge_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", []))
                if not any(k == b"x-content-type-options" for k, _ in headers):
                    headers.append((b"x-content-type-options", b"nosniff"))
                if admin and not any(k == b"cache-control" for k, _ in headers):
                    headers.append((b"cache-control", b"no-store"))
                headers.append((b"x-request-id", rid))
                message["headers"] = headers
            await send(message)

        svc: Services | None = scope["state"].get("services")
        if (
            svc is not None
            and not is_public(path)
            and not await admit(scope, receive, edge_send, svc, svc.refusals)
        ):
            return  # answered 401 or 429 here: the body is never read
        limit = self._limits.limit(scope)
        if not await refused_by_length(scope, receive, edge_send, limit):
            await self.app(scope, counting(receive, limit), edge_send)
        if svc is not None:
            record_answer(scope, svc.refusals, status)


def _with_id(send: Send, rid: bytes) -> Send:
    async def send_with_id(message: Message) -> None:
        if message["type"] == "http.response.start":
            message["headers"] = [*message.get("headers", []), (b"x-request-id", rid)]
        await send(message)

    return send_with_id
