"""Identity before the body, and every refusal recorded: a pure ASGI middleware.

On every route but the public ones it authenticates the caller from the headers before the
application reads a byte of the body (an unauthenticated upload is answered 401 and its
body is never read), slows down addresses and key prefixes with too many failed
authentications (429 with Retry-After), and hands every 401, 403 and 429 — and every
refused write on the admin and review APIs — to the RefusalRecorder (security/refusals.py).
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bastion.api.render import error_response, wire_of
from bastion.errors import BastionError, RateLimited, Unauthorized
from bastion.security.jwt_shape import looks_like_jwt
from bastion.security.refusals import Refusal, RefusalRecorder
from bastion.services import Services

PUBLIC = frozenset(
    {
        "/healthz",
        "/readyz",
        "/v2",
        "/v2/health/live",
        "/v2/health/ready",
        "/metrics",  # its route checks a key when observability.metrics_require_key is set
        "/docs",
        "/docs/oauth2-redirect",
        "/redoc",
        "/openapi.json",
    }
)
PUBLIC_PREFIXES = ("/console",)  # the web console authenticates its own way
ACTION_PREFIXES = ("/v1/admin/", "/v1/review/")
READS = frozenset({"GET", "HEAD", "OPTIONS"})


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return None


def key_prefix(authorization: str | None) -> str | None:
    """The first 12 characters of a bearer API key (as stored in its ``prefix``), else None."""
    if not authorization:
        return None
    token = authorization.partition(" ")[2].strip()
    if not token or looks_like_jwt(token):
        return None
    return token[:12]


def reason_of(authorization: str | None) -> str:
    if not authorization:
        return "missing_key"
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return "malformed"
    return "invalid_token" if looks_like_jwt(token.strip()) else "invalid_key"


def is_public(path: str) -> bool:
    return path in PUBLIC or path.startswith(PUBLIC_PREFIXES)


class Gatekeeper:
    """See the module docstring. Does nothing until the lifespan has built Services."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        state = scope.get("state") or {}
        svc: Services | None = state.get("services")
        if scope["type"] != "http" or svc is None:
            await self.app(scope, receive, send)
            return
        path, recorder = scope["path"], svc.refusals
        if not is_public(path) and not await admit(scope, receive, send, svc, recorder):
            return
        status = 0

        async def watch(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        await self.app(scope, receive, watch)
        record_answer(scope, recorder, status)


def record_answer(scope: Scope, recorder: RefusalRecorder, status: int) -> None:
    """Hand a 401, 403 or 429, or a refused write on an action route, to the recorder."""
    acted = scope["path"].startswith(ACTION_PREFIXES) and scope["method"] not in READS
    if status in (401, 403, 429) or (acted and 400 <= status < 500 and status != 413):
        reason = {401: "invalid_key", 403: "forbidden", 429: "throttled"}.get(status, "refused")
        recorder.refused(_refusal(scope, status, reason))


async def admit(
    scope: Scope, receive: Receive, send: Send, svc: Services, recorder: RefusalRecorder
) -> bool:
    """Authenticate from the headers; False when the request was answered here."""
    header = _header(scope, b"authorization")
    address = (scope.get("client") or ("unknown", 0))[0]
    prefix = key_prefix(header)
    wait = recorder.throttled(address, prefix)
    error: BastionError
    if wait is not None and not recorder.known_good(header):
        error = RateLimited(
            f"too many failed authentications from {address}; wait {wait:.0f}s",
            retry_after=wait,
        )
        recorder.refused(_refusal(scope, 429, "throttled", error.message))
    else:
        try:
            scope["state"]["principal"] = await svc.authenticator.authenticate(header)
            if header:
                recorder.succeeded(header)
            return True
        except Unauthorized as exc:
            error = exc
            recorder.refused(_refusal(scope, 401, reason_of(header), exc.message))
    rid = scope["state"].get("request_id", "")
    response = error_response(error, rid, wire=wire_of(scope["path"]))
    await response(scope, receive, send)  # the body is never read
    return False


def _refusal(scope: Scope, status: int, reason: str, message: str = "") -> Refusal:
    state = scope["state"]
    header = _header(scope, b"authorization")
    return Refusal(
        status=status,
        reason=reason,
        method=scope["method"],
        path=scope["path"],
        address=(scope.get("client") or ("unknown", 0))[0],
        key_prefix=key_prefix(header),
        principal=state.get("principal"),
        request_id=state.get("request_id", ""),
        message=message or state.get("refusal_message", ""),
    )
