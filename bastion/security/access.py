"""Authorization checks shared by the auth stage and the HTTP routes."""

from __future__ import annotations

from bastion.core.principal import Principal
from bastion.errors import Forbidden, NotFound


def require_deployment(principal: Principal, deployment: str) -> None:
    """Raise 403 unless ``principal`` may use ``deployment`` (a deployment or LLM group)."""
    if not principal.can_use(deployment):
        raise Forbidden(
            f"key '{principal.name}' may not use deployment '{deployment}'; "
            "ask an admin to grant it"
        )


def require_usable(principal: Principal, deployment: str, owner: str | None) -> None:
    """``require_deployment``, after answering another tenant's deployment as absent (404):
    ``owner`` is the tenant owning it (its model's), None when shared."""
    if owner is not None and not principal.sees_tenant(owner):
        raise NotFound(
            f"no deployment named '{deployment}'; GET /v1/deployments lists those your key may use"
        )
    require_deployment(principal, deployment)


def require_roles(principal: Principal, *roles: str) -> None:
    """Raise 403 unless ``principal`` holds one of ``roles`` (admin holds them all)."""
    if not principal.has_any(*roles):
        raise Forbidden(f"this route needs one of the roles: {', '.join(('admin', *roles))}")


def require_own_role(principal: Principal, role: str) -> None:
    """Raise 403 unless ``principal`` holds ``role`` itself: here admin does not imply it
    (an approval is a second person's sign-off; an admin who ships anyway overrides)."""
    if role not in principal.roles:
        raise Forbidden(
            f"key '{principal.name}' does not hold the {role} role; this needs a key that "
            "does (admin alone is not enough)"
        )


def tenant_scope(principal: Principal, requested: str | None) -> str | None:
    """The tenant a read is limited to: an admin's choice (None: every tenant), else the
    principal's own tenant; asking for another tenant's data is 403."""
    if principal.is_admin:
        return requested
    if requested is not None and requested != principal.tenant:
        raise Forbidden(
            f"key '{principal.name}' belongs to tenant '{principal.tenant}' and cannot read "
            f"tenant '{requested}'; only admins read across tenants"
        )
    return principal.tenant
