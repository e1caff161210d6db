"""Who owns an object and who may see, change or approve it: the tenant rules in one place.

Every stored object has an owning tenant; ``None`` means shared by every tenant. A principal
sees its own tenant's objects and the shared ones; admins see everything. Changing a shared
object needs an admin or a *global operator*; approving for it needs a *global approver*
(both named in ``security.global_operators`` / ``global_approvers`` by key id, or
``tenant:NAME`` for every key of a tenant). Another tenant's object is answered as absent
(404), never as forbidden: its existence is not disclosed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from bastion.core.principal import Principal
from bastion.errors import Forbidden, NotFound

SHARED = None


def _matches(entries: frozenset[str], key_id: str, tenant: str) -> bool:
    return key_id in entries or f"tenant:{tenant}" in entries


@dataclass(frozen=True, slots=True)
class Ownership:
    """The tenant rules, with the configured global operators and approvers."""

    global_operators: frozenset[str] = frozenset()
    global_approvers: frozenset[str] = frozenset()

    @classmethod
    def of(cls, operators: Iterable[str] = (), approvers: Iterable[str] = ()) -> Ownership:
        return cls(frozenset(operators), frozenset(approvers))

    def visible(self, principal: Principal, owner: str | None) -> bool:
        """Whether ``principal`` may see an object owned by ``owner`` (None: shared)."""
        return owner is None or principal.sees_tenant(owner)

    def is_global_operator(self, principal: Principal) -> bool:
        return principal.is_admin or _matches(
            self.global_operators, principal.key_id, principal.tenant
        )

    def entitled_approver(self, key_id: str, tenant: str, owner: str | None) -> bool:
        """Whether an approval by ``key_id`` of ``tenant`` counts for ``owner``'s objects."""
        if owner is not None and tenant == owner:
            return True
        return _matches(self.global_approvers, key_id, tenant)

    def may_change(self, principal: Principal, owner: str | None) -> bool:
        if owner is None:
            return self.is_global_operator(principal)
        return principal.sees_tenant(owner)

    def require_visible(self, principal: Principal, owner: str | None, what: str) -> None:
        """NotFound unless ``principal`` sees the object (``what`` names it: "model 'x'")."""
        if not self.visible(principal, owner):
            raise NotFound(f"no {what} visible to key '{principal.name}'")

    def require_change(self, principal: Principal, owner: str | None, what: str) -> None:
        """NotFound if invisible; Forbidden if shared and ``principal`` may not manage it."""
        self.require_visible(principal, owner, what)
        if not self.may_change(principal, owner):
            raise Forbidden(
                f"{what} is shared by every tenant; changing it needs an admin or a global "
                "operator (security.global_operators)"
            )

    def owner_for_new(
        self, principal: Principal, requested: str | None, shared: bool
    ) -> str | None:
        """The owner of an object ``principal`` creates: its own tenant; an admin may name
        another tenant or make it shared, a global operator may make it shared."""
        if shared:
            if not self.is_global_operator(principal):
                raise Forbidden(
                    "only an admin or a global operator may create objects shared by every "
                    "tenant; leave 'shared' out to create it in your tenant"
                )
            return SHARED
        if requested is not None and requested != principal.tenant and not principal.is_admin:
            raise Forbidden(
                f"key '{principal.name}' belongs to tenant '{principal.tenant}' and cannot "
                f"create objects for tenant '{requested}'"
            )
        return requested if requested is not None else principal.tenant
