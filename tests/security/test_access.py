"""Authorization rules: roles, deployment grants, tenant scoping, expiry inside the cache."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bastion.errors import Forbidden, Unauthorized
from bastion.security import (
    ROLES,
    Authenticator,
    Principal,
    require_deployment,
    require_roles,
    tenant_scope,
)
from bastion.security.keys import ApiKey


def principal(*roles: str, tenant: str = "acme", deployments: set[str] | None = None) -> Principal:
    granted = frozenset(deployments) if deployments is not None else None
    return Principal("key_1", "svc", tenant, frozenset(roles), granted, team="t1")


@pytest.mark.parametrize("role", ROLES)
def test_who_may_use_a_deployment(role: str) -> None:
    p = principal(role)
    if role in ("admin", "client", "operator"):
        require_deployment(p, "iris")
    else:  # reviewers and approvers work the queue; they do not call models
        with pytest.raises(Forbidden, match="may not use deployment 'iris'"):
            require_deployment(p, "iris")


def test_grants_restrict_clients_but_not_admins() -> None:
    client = principal("client", deployments={"iris"})
    require_deployment(client, "iris")
    with pytest.raises(Forbidden, match="ask an admin to grant it"):
        require_deployment(client, "chat")
    require_deployment(principal("admin", deployments={"iris"}), "chat")


def test_roles_needed_by_a_route() -> None:
    require_roles(principal("operator"), "operator")
    require_roles(principal("admin"), "operator")
    with pytest.raises(Forbidden, match="admin, operator"):
        require_roles(principal("client"), "operator")
    with pytest.raises(Forbidden, match=r"roles: admin$"):
        require_roles(principal("operator"))


def test_tenant_scope() -> None:
    assert tenant_scope(principal("admin"), None) is None  # every tenant
    assert tenant_scope(principal("admin"), "other") == "other"
    assert tenant_scope(principal("operator"), None) == "acme"
    assert tenant_scope(principal("operator"), "acme") == "acme"
    with pytest.raises(Forbidden, match="cannot read tenant 'other'"):
        tenant_scope(principal("operator"), "other")


class Keys:
    def __init__(self, key: ApiKey) -> None:
        self.key = key
        self.lookups = 0

    async def find(self, plaintext: str) -> ApiKey | None:
        self.lookups += 1
        return self.key if plaintext == "secret" else None


async def test_a_key_expiring_within_the_cache_ttl_stops_on_time() -> None:
    start = datetime(2030, 1, 1, tzinfo=UTC)
    mono, wall = [0.0], [start]
    expires = start + timedelta(seconds=2)
    keys = Keys(ApiKey("key_1", "bst_x", "svc", "acme", ("client",), None, start, expires, None))
    auth = Authenticator(keys, clock=lambda: mono[0], wall=lambda: wall[0])  # type: ignore[arg-type]
    assert (await auth.authenticate("Bearer secret")).tenant == "acme"
    mono[0], wall[0] = 1.0, start + timedelta(seconds=1)
    await auth.authenticate("Bearer secret")
    assert keys.lookups == 1  # cached
    mono[0], wall[0] = 2.5, start + timedelta(seconds=2.5)  # past expiry, within the 5 s TTL
    with pytest.raises(Unauthorized, match="expired"):
        await auth.authenticate("Bearer secret")
    assert keys.lookups == 2
