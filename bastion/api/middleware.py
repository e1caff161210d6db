"""Pure ASGI transport middleware: request ids and request body limits."""

from __future__ import annotations

import re

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bastion.api.render import error_response, wire_of
from bastion.core.ids import mint_request_id
from bastion.errors import PayloadTooLarge
from bastion.services import Services

_VALID_ID = re.compile(rb"^[A-Za-z0-9._:-]{1,64}$")


class RequestContext:
    """Give each HTTP request an id (the client's ``x-request-id`` if sane) and echo it.

    A client's id is kept (for correlation) only when the PII detector finds nothing in it:
    request ids are stored as given by the prediction log, usage, review, rollouts and
    actions, so an id such as ``4111-1111-1111-1111`` is replaced by a minted one (echoed
    back, so the client sees the id its request was recorded under)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid_bytes = assign_request_id(scope)

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), (b"x-request-id", rid_bytes)]
            await send(message)

        await self.app(scope, receive, send_with_id)


def assign_request_id(scope: Scope) -> bytes:
    """Put the request's id in ``scope["state"]["request_id"]``; its bytes, to echo."""
    rid: str = ""
    for name, value in scope["headers"]:
        if name == b"x-request-id" and _VALID_ID.match(value):
            given = value.decode()  # client-supplied: a plain str, so the audit scrubs it
            rid = given if _free_of_pii(scope, given) else ""
            break
    if not rid:
        rid = mint_request_id()  # typed: the audit keeps it verbatim
    scope.setdefault("state", {})["request_id"] = rid
    return rid.encode()


def _free_of_pii(scope: Scope, text: str) -> bool:
    """Whether the app's PII detector finds nothing in ``text`` (no services in the scope,
    as in a bare middleware test: nothing to ask, so the id is kept)."""
    svc: Services | None = (scope.get("state") or {}).get("services")
    return svc is None or not svc.guards.detector.detect(text)


# Admin routes that take uploads (an artifact, an eval set) get the large admin limit; every
# other admin call is a small JSON document.
_UPLOADS = re.compile(r"^/v1/admin/(models/[^/]+/versions|eval/sets)(/[^/]*)?$")


class BodyLimit:
    """Refuse bodies over the limit: at once from Content-Length, else while streaming.

    Per route: ``max_bytes`` for the model APIs, ``max_admin_json_bytes`` for admin calls,
    ``max_admin_bytes`` for admin uploads (the routes in ``_UPLOADS``, and any admin request
    sent as ``application/octet-stream``)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_bytes: int,
        max_admin_bytes: int,
        max_admin_json_bytes: int | None = None,
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.max_admin_bytes = max_admin_bytes
        self.max_admin_json_bytes = max_admin_json_bytes or max_admin_bytes

    def limit(self, scope: Scope) -> int:
        path = scope["path"]
        if not path.startswith("/v1/admin/"):
            return self.max_bytes
        if _UPLOADS.match(path):
            return self.max_admin_bytes
        for name, value in scope["headers"]:
            if name == b"content-type" and value.startswith(b"application/octet-stream"):
                return self.max_admin_bytes
        return self.max_admin_json_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit(scope)
        if await refused_by_length(scope, receive, send, limit):
            return
        await self.app(scope, counting(receive, limit), send)


async def refused_by_length(scope: Scope, receive: Receive, send: Send, limit: int) -> bool:
    """Answer 413 when the declared Content-Length is over ``limit`` (True: answered)."""
    for name, value in scope["headers"]:
        if name == b"content-length":
            if not value.isdigit() or int(value) > limit:
                err = PayloadTooLarge(
                    f"request body of {value.decode(errors='replace')} bytes exceeds the "
                    f"limit of {limit} bytes"
                )
                rid = scope.get("state", {}).get("request_id", "")
                await error_response(err, rid, wire=wire_of(scope["path"]))(scope, receive, send)
                return True
            break
    return False


def counting(receive: Receive, limit: int) -> Receive:
    """``receive``, raising PayloadTooLarge once the body streamed so far exceeds ``limit``."""
    seen = 0

    async def counting_receive() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                raise PayloadTooLarge(f"request body exceeds the limit of {limit} bytes")
        return message

    return counting_receive
