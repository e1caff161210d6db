"""The request id middleware: a client's sane ``x-request-id`` is kept as client text (a plain
``str``, scrubbed by the audit); an id Bastion mints is a ``MintedId`` (kept verbatim)."""

from __future__ import annotations

from typing import Any

from bastion.api.middleware import RequestContext
from bastion.core.ids import MintedId


async def _request_id(headers: list[tuple[bytes, bytes]]) -> tuple[Any, bytes]:
    seen: dict[str, Any] = {}
    sent: list[dict[str, Any]] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        seen["rid"] = scope["state"]["request_id"]
        await send({"type": "http.response.start", "status": 200, "headers": []})

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b""}

    async def send(message: Any) -> None:
        sent.append(message)

    scope = {"type": "http", "headers": headers, "method": "GET", "path": "/"}
    await RequestContext(app)(scope, receive, send)
    echoed = dict(sent[0]["headers"])[b"x-request-id"]
    return seen["rid"], echoed


async def test_a_client_request_id_is_plain_text_never_minted() -> None:
    for client in (b"4111-1111-1111-1111", b"ann.lee", b"0123456789abcdef01234567"):
        rid, echoed = await _request_id([(b"x-request-id", client)])
        assert type(rid) is str and rid == client.decode() and echoed == client


async def test_without_a_sane_client_id_bastion_mints_one() -> None:
    for headers in ([], [(b"x-request-id", b"ann@corp.example")], [(b"x-request-id", b"")]):
        rid, echoed = await _request_id(headers)
        assert isinstance(rid, MintedId) and echoed == rid.encode() and len(rid) == 24
