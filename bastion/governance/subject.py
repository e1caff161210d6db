"""Who a request is charged to: the key, team, tenant and deployment of one Call."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from bastion.core.principal import ANONYMOUS

if TYPE_CHECKING:
    from bastion.pipeline.call import Call

Scope = Literal["key", "team", "tenant", "deployment"]
SCOPES: tuple[Scope, ...] = ("key", "team", "tenant", "deployment")


@dataclass(frozen=True, slots=True)
class Subject:
    """The identities a limit or budget can be scoped to; ``team`` is optional."""

    key_id: str
    tenant: str
    team: str | None
    deployment: str

    @classmethod
    def of(cls, call: Call) -> Subject:
        """From the call's principal (anonymous/default when authentication did not run)."""
        principal = call.principal or ANONYMOUS
        return cls(principal.key_id, principal.tenant, principal.team or None, call.deployment)

    def id_for(self, scope: Scope) -> str | None:
        """The id charged for ``scope``; None for ``team`` when the principal has no team."""
        if scope == "key":
            return self.key_id
        if scope == "tenant":
            return self.tenant
        if scope == "deployment":
            return self.deployment
        return None if self.team is None else f"{self.tenant}/{self.team}"
