"""Who is calling: the principal an API key resolves to, and what its roles allow."""

from __future__ import annotations

from dataclasses import dataclass

ROLES = ("admin", "operator", "approver", "reviewer", "client")


@dataclass(frozen=True, slots=True)
class Principal:
    key_id: str
    name: str
    tenant: str
    roles: frozenset[str]
    deployments: frozenset[str] | None = None  # None: every deployment

    def has_any(self, *roles: str) -> bool:
        return "admin" in self.roles or any(r in self.roles for r in roles)

    def can_use(self, deployment: str) -> bool:
        if "admin" in self.roles:
            return True
        if not self.roles & {"client", "operator"}:
            return False
        return self.deployments is None or deployment in self.deployments


ANONYMOUS = Principal("anonymous", "anonymous", "default", frozenset({"client"}))
