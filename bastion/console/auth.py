"""Who is looking at a console page: the session cookie, roles, CSRF, and the login itself."""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import Response

from bastion.errors import Forbidden, InvalidRequest, Unauthorized
from bastion.security import Principal
from bastion.security.jwt_shape import looks_like_jwt

if TYPE_CHECKING:
    from bastion.console.sessions import Session, SessionStore
    from bastion.services import Services

COOKIE = "bastion_console"
LOGIN_CSRF_COOKIE = "bastion_console_login"
MAX_FORM_BYTES = 64 * 1024


class LoginRequired(Exception):
    """No live session: the page answers with a redirect to the login form."""


@dataclass(frozen=True, slots=True)
class Viewer:
    """The logged-in principal and its session's CSRF token (every form carries it)."""

    principal: Principal
    csrf: str

    def require(self, *roles: str) -> None:
        if not self.principal.has_any(*roles):
            raise Forbidden(f"this page needs one of the roles: {', '.join(('admin', *roles))}")


def secure(request: Request) -> bool:
    """Cookies are ``Secure`` when the console is served over TLS."""
    return request.url.scheme == "https"


def set_cookie(response: Response, request: Request, name: str, value: str, max_age: int) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/console",
        httponly=True,
        samesite="strict",
        secure=secure(request),
    )


async def viewer(request: Request, sessions: SessionStore) -> Viewer:
    session = await sessions.find(request.cookies.get(COOKIE))
    if session is None:
        raise LoginRequired()
    if not session.principal.roles - {"client"}:
        raise Forbidden("the console needs a role beyond client")
    return Viewer(session.principal, session.csrf)


async def form(request: Request) -> dict[str, str]:
    """A urlencoded form body (bounded; the last value of a repeated field wins)."""
    kind = request.headers.get("content-type", "").split(";")[0].strip()
    if kind != "application/x-www-form-urlencoded":
        raise InvalidRequest("the console's forms post application/x-www-form-urlencoded")
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        raise InvalidRequest(f"form too large: at most {MAX_FORM_BYTES} bytes")
    return dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))


def check_csrf(sent: str | None, expected: str) -> None:
    """Every state-changing form carries its session's token; SameSite=Strict is the second
    line, not the only one."""
    if not sent or not hmac.compare_digest(sent.encode(), expected.encode()):
        raise Forbidden("the form's CSRF token is missing or stale: reload the page and retry")


def login_token() -> str:
    return secrets.token_urlsafe(24)


async def log_in(svc: Services, sessions: SessionStore, credential: str) -> tuple[str, Session]:
    """An API key or an IdP JWT, checked by the server's own Authenticator."""
    credential = credential.strip()
    if not credential:
        raise Unauthorized("paste an API key or an identity-provider token")
    principal = await svc.authenticator.authenticate(f"Bearer {credential}")
    if not principal.roles - {"client"}:
        raise Forbidden(
            f"key '{principal.name}' has only the client role; the console needs admin, "
            "operator, approver or reviewer"
        )
    if looks_like_jwt(credential) and svc.settings.security.jwt is not None:
        return await sessions.open(principal, kind="jwt", until=_expiry(credential))
    return await sessions.open(principal, kind="key")


def _expiry(token: str) -> datetime | None:
    """The token's ``exp`` (already verified by the Authenticator), so the session ends too."""
    import jwt as pyjwt  # here: only a server with security.jwt reaches this

    claims = pyjwt.decode(token, options={"verify_signature": False})
    exp = claims.get("exp")
    return datetime.fromtimestamp(exp, UTC) if isinstance(exp, int | float) else None
