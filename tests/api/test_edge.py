"""RequestEdge answers exactly as the four middlewares it fuses, stacked as before."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bastion.api.edge import RequestEdge
from bastion.api.gatekeeper import Gatekeeper
from bastion.api.headers import SecurityHeaders
from bastion.api.middleware import BodyLimit, RequestContext
from bastion.errors import PayloadTooLarge, Unauthorized

LIMITS = {"max_bytes": 10, "max_admin_bytes": 1000, "max_admin_json_bytes": 100}
# path -> (status, extra response headers) the inner app answers after reading the body
ANSWERS: dict[str, tuple[int, list[tuple[bytes, bytes]]]] = {
    "/v1/chat/completions": (200, []),
    "/v1/deployments/d/predict": (403, []),
    "/v1/admin/keys": (400, []),
    "/v1/admin/models/m/versions": (201, [(b"cache-control", b"max-age=5")]),
    "/healthz": (200, [(b"x-content-type-options", b"nosniff")]),
    "/docs": (200, [(b"content-type", b"text/html")]),
}


async def inner(scope: Scope, receive: Receive, send: Send) -> None:
    while (await receive()).get("more_body", False):
        pass
    status, headers = ANSWERS[scope["path"]]
    body = b"<html><script>boot()</script></html>" if scope["path"] == "/docs" else b"{}"
    await send({"type": "http.response.start", "status": status, "headers": list(headers)})
    await send({"type": "http.response.body", "body": body})


class Recorder:
    def __init__(self) -> None:
        self.refusals: list[tuple[int, str, str]] = []

    def throttled(self, address: str, prefix: str | None) -> float | None:
        return 30.0 if address == "10.0.0.9" else None

    def known_good(self, header: str | None) -> bool:
        return False

    def succeeded(self, header: str) -> None:
        pass

    def refused(self, r: Any) -> None:
        self.refusals.append((r.status, r.reason, r.path))


async def authenticate(header: str | None) -> str:
    if header != "Bearer good":
        raise Unauthorized("a valid API key is required: pass it as a bearer token")
    return "alice"


def services() -> Any:
    detector = SimpleNamespace(detect=lambda text: [])
    return SimpleNamespace(
        refusals=Recorder(),
        authenticator=SimpleNamespace(authenticate=authenticate),
        guards=SimpleNamespace(detector=detector),
    )


def layered(app: ASGIApp) -> ASGIApp:
    return RequestContext(SecurityHeaders(Gatekeeper(BodyLimit(app, **LIMITS))))


async def run(
    stack: ASGIApp,
    svc: Any,
    method: str,
    path: str,
    headers: list[tuple[bytes, bytes]],
    body: bytes,
) -> tuple[list[Message], Any, dict[str, Any], str]:
    scope: dict[str, Any] = {
        "type": "http",
        "method": method,
        "path": path,
        "headers": [(b"x-request-id", b"req-1"), *headers],
        "client": ("10.0.0.9" if (b"x-throttle", b"1") in headers else "127.0.0.1", 1),
        "state": {} if svc is None else {"services": svc},
    }
    chunks = [body[:6], body[6:]]
    sent: list[Message] = []

    async def receive() -> Message:
        part = chunks.pop(0)
        return {"type": "http.request", "body": part, "more_body": bool(chunks)}

    async def send(message: Message) -> None:
        sent.append(message)

    raised = ""
    try:
        await stack(scope, receive, send)
    except PayloadTooLarge as exc:
        raised = exc.message
    return sent, svc and svc.refusals.refusals, scope["state"], raised


CASES = [
    ("POST", "/v1/chat/completions", [(b"authorization", b"Bearer good")], b"{}"),
    ("POST", "/v1/chat/completions", [], b"{}"),  # 401 before the body
    ("POST", "/v1/chat/completions", [(b"x-throttle", b"1")], b"{}"),  # 429
    ("POST", "/v1/chat/completions", [(b"authorization", b"Bearer good")], b"x" * 20),
    (
        "POST",
        "/v1/chat/completions",
        [(b"authorization", b"Bearer good"), (b"content-length", b"20")],
        b"x" * 20,
    ),
    ("POST", "/v1/deployments/d/predict", [(b"authorization", b"Bearer good")], b"{}"),
    ("POST", "/v1/admin/keys", [(b"authorization", b"Bearer good")], b"{}"),
    ("GET", "/v1/admin/keys", [(b"authorization", b"Bearer good")], b""),
    ("POST", "/v1/admin/models/m/versions", [(b"authorization", b"Bearer good")], b"x" * 500),
    ("GET", "/healthz", [], b""),
    ("GET", "/docs", [], b""),
]


@pytest.mark.parametrize("with_services", [True, False])
@pytest.mark.parametrize(("method", "path", "headers", "body"), CASES)
async def test_the_edge_answers_as_the_four_layers(
    with_services: bool,
    method: str,
    path: str,
    headers: list[tuple[bytes, bytes]],
    body: bytes,
) -> None:
    old_svc, new_svc = (services(), services()) if with_services else (None, None)
    expected = await run(layered(inner), old_svc, method, path, headers, body)
    got = await run(RequestEdge(inner, **LIMITS), new_svc, method, path, headers, body)
    assert got[0] == expected[0]  # every message, headers in the same order
    assert got[1] == expected[1]  # the refusals recorded
    assert {k: v for k, v in got[2].items() if k != "services"} == {
        k: v for k, v in expected[2].items() if k != "services"
    }
    assert got[3] == expected[3]  # a body over the limit mid-stream raises the same
    assert got[3] or any(k == b"x-request-id" for k, _ in got[0][0]["headers"])


async def test_other_scopes_pass_straight_through() -> None:
    seen: list[str] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append(scope["type"])

    await RequestEdge(app, **LIMITS)({"type": "lifespan"}, None, None)  # type: ignore[arg-type]
    assert seen == ["lifespan"]
