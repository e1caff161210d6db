"""Who sees which alert: admins all; operators their deployments and their tenant's budgets."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bastion.api.alerts import visible
from bastion.observability.alerts import Alert
from bastion.security import Principal

NOW = datetime(2025, 6, 1, tzinfo=UTC)


def _alert(deployment: str | None, kind: str = "error_rate", **details: Any) -> Alert:
    return Alert(1, "k", "r", kind, "rule", deployment, "warning", "s", details, NOW, NOW, "p")


def _principal(roles: set[str], deployments: set[str] | None = None) -> Principal:
    scope = frozenset(deployments) if deployments is not None else None
    return Principal("k1", "ops", "acme", frozenset(roles), scope)


def test_admins_see_everything() -> None:
    admin = _principal({"admin"})
    assert visible(admin, _alert("fraud"))
    assert visible(admin, _alert("chat", "budget", scope="tenant", subject="other"))


def test_operators_see_their_deployments_and_their_tenants_budgets() -> None:
    ops = _principal({"operator"}, {"fraud"})
    assert visible(ops, _alert("fraud"))
    assert not visible(ops, _alert("chat"))
    assert visible(ops, _alert(None, "event"))
    assert visible(ops, _alert("fraud", "budget", scope="tenant", subject="acme"))
    assert not visible(ops, _alert("fraud", "budget", scope="tenant", subject="globex"))
    assert not visible(ops, _alert("fraud", "budget", scope="key", subject="k9"))
    assert visible(_principal({"operator"}), _alert("anything"))
