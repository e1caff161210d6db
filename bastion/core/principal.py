"""Who is calling: the principal an API key resolves to, and what its roles allow."""

from __future__ import annotations

from dataclasses import dataclass

ROLES = ("admin", "operator", "approver", "reviewer", "client")


@dataclass(frozen=True, slots=True)
class Principal:
    """A key's identity. ``tenant`` → ``team`` (optional) → key; ``deployments`` None: all.

    ``admin`` is the platform's superuser: every route, every deployment, every tenant. The
    other roles act within their own tenant only.
    """

    key_id: str
    name: str
    tenant: str
    roles: frozenset[str]
    deployments: frozenset[str] | None = None  # None: every deployment
    team: str | None = None

    @property
    def is_admin(self) -> bool:
        return "admin" in self.roles

    def has_any(self, *roles: str) -> bool:
        return "admin" in self.roles or any(r in self.roles for r in roles)

    def can_use(self, deployment: str) -> bool:
        if "admin" in self.roles:
            return True
        if not self.roles & {"client", "operator"}:
            return False
        return self.deployments is None or deployment in self.deployments

    def sees_tenant(self, tenant: str) -> bool:
        """Whether this principal may read ``tenant``'s data (admins read every tenant's)."""
        return self.is_admin or tenant == self.tenant


ANONYMOUS = Principal("anonymous", "anonymous", "default", frozenset({"client"}))
