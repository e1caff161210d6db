"""Authenticate before reading a request body: a caller without a valid key gets a 401."""

from __future__ import annotations

from starlette.requests import Request

from bastion.api.context import header, services
from bastion.errors import Forbidden
from bastion.security import Principal, require_roles
from bastion.services import Services


async def authenticated(request: Request) -> Principal:
    """The caller's principal, or 401. Adapters call this before parsing the body, so that
    an unauthenticated request is refused before any work is spent on it (and never learns
    the route's body shape from a 422). The pipeline's auth stage checks again; the lookup
    is cached, so that costs a dict read. The gatekeeper (``api/gatekeeper.py``) has
    authenticated the same header before the route ran and left its principal in the
    request's state: that one is returned."""
    known: Principal | None = request.scope["state"].get("principal")
    if known is not None:  # the gatekeeper authenticated this request's header already
        return known
    svc = services(request)
    return await svc.authenticator.authenticate(header(request, b"authorization"))


async def authenticate_first(request: Request) -> None:
    """The same, as a router dependency (FastAPI resolves it before validating the body)."""
    await authenticated(request)


ADMIN_PREFIX = "/v1/admin/"


async def admin_gate(request: Request) -> None:
    """An app-wide dependency: every ``/v1/admin/`` route authenticates before anything else
    (401 before any 422), and keys that hold only the client role never get in (403), whichever
    concern's router the route belongs to. Routes still check their own roles."""
    if not request.scope["path"].startswith(ADMIN_PREFIX):  # no URL object per request
        return
    principal = await authenticated(request)
    if not principal.roles - {"client"}:
        raise Forbidden(
            f"key '{principal.name}' has only the client role; the admin API needs admin, "
            "operator, approver or reviewer"
        )


async def caller(request: Request, *roles: str) -> tuple[Services, Principal]:
    """The services and the caller's principal, or 401 (no valid key) or 403 (none of
    ``roles``; admin holds them all). Every admin route starts here."""
    principal = await authenticated(request)
    require_roles(principal, *roles)
    return services(request), principal
