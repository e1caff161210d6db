"""The tenant rules: who sees, changes and approves an object of a tenant or a shared one."""

from __future__ import annotations

import pytest

from bastion.core import Ownership, Principal
from bastion.errors import Forbidden, NotFound


def key(tenant: str, *roles: str, key_id: str = "k") -> Principal:
    return Principal(key_id, f"{tenant}-{'-'.join(roles)}", tenant, frozenset(roles))


RULES = Ownership.of(["tenant:platform", "key_ops"], ["tenant:platform"])


def test_a_tenant_sees_its_own_and_shared_objects_only() -> None:
    acme = key("acme", "operator")
    assert RULES.visible(acme, "acme") and RULES.visible(acme, None)
    assert not RULES.visible(acme, "beta")
    assert RULES.visible(key("beta", "admin"), "acme")
    with pytest.raises(NotFound, match="no model named 'm' visible"):
        RULES.require_visible(acme, "beta", "model named 'm'")


def test_changing_a_shared_object_needs_an_admin_or_a_global_operator() -> None:
    acme = key("acme", "operator")
    RULES.require_change(acme, "acme", "x")
    with pytest.raises(NotFound):
        RULES.require_change(acme, "beta", "x")  # foreign: as if absent, never 403
    with pytest.raises(Forbidden, match="shared by every tenant"):
        RULES.require_change(acme, None, "x")
    RULES.require_change(key("platform", "operator"), None, "x")
    RULES.require_change(key("acme", "operator", key_id="key_ops"), None, "x")
    RULES.require_change(key("acme", "admin"), None, "x")


def test_approvals_count_from_the_owner_or_global_approvers() -> None:
    assert RULES.entitled_approver("k1", "acme", "acme")
    assert not RULES.entitled_approver("k1", "beta", "acme")
    assert not RULES.entitled_approver("k1", "acme", None)  # shared: global approvers only
    assert RULES.entitled_approver("k1", "platform", None)
    assert RULES.entitled_approver("k1", "platform", "acme")


def test_the_owner_of_a_new_object() -> None:
    acme, admin = key("acme", "operator"), key("root", "admin")
    assert RULES.owner_for_new(acme, None, False) == "acme"
    assert RULES.owner_for_new(acme, "acme", False) == "acme"
    with pytest.raises(Forbidden, match="cannot create objects for tenant 'beta'"):
        RULES.owner_for_new(acme, "beta", False)
    with pytest.raises(Forbidden, match="shared by every tenant"):
        RULES.owner_for_new(acme, None, True)
    assert RULES.owner_for_new(admin, "beta", False) == "beta"
    assert RULES.owner_for_new(admin, None, True) is None
    assert RULES.owner_for_new(admin, None, False) == "root"
