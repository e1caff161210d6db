"""Checks that judge the server's facts alone: what passes, warns, fails and is skipped."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bastion.readiness import Context
from bastion.readiness.checks import cost, model, reliability, security


class _Api:
    def __init__(self, base_url: str = "http://127.0.0.1:8000") -> None:
        self.base_url = base_url

    def get(self, path: str, **params: Any) -> Any:
        raise AssertionError(f"no API call expected: {path}")

    def post(self, path: str, body: Any = None, **params: Any) -> Any:
        raise AssertionError(f"no API call expected: {path}")


def _ctx(url: str = "http://127.0.0.1:8000", **facts: Any) -> Context:
    base: dict[str, Any] = {
        "deployments": [],
        "llm_groups": [],
        "budgets": [],
        "alerts": {"enabled": True, "rules": [], "webhooks": []},
        "security": {"tls": False, "require_keys": True, "encryption": {"key_ids": []}},
        "gates": {},
    }
    return Context(api=_Api(url), facts={**base, **facts}, now=datetime.now(UTC))


def _group(name: str, fallbacks: list[str], static: bool = False) -> dict[str, Any]:
    return {"name": name, "fallbacks": fallbacks, "static_fallback": static}


def test_every_llm_group_needs_a_fallback() -> None:
    assert reliability.llm_fallbacks(_ctx()).status == "skip"
    groups = [_group("gpt", ["claude"]), _group("claude", [], static=True)]
    assert reliability.llm_fallbacks(_ctx(llm_groups=groups)).status == "pass"
    lonely = reliability.llm_fallbacks(_ctx(llm_groups=[*groups, _group("solo", [])]))
    assert lonely.status == "fail" and "solo" in lonely.evidence and lonely.fix


def test_budgets_and_their_alerts() -> None:
    groups = [_group("gpt", ["x"])]
    assert cost.budgets(_ctx(llm_groups=groups)).status == "fail"
    budget = [{"scope": "tenant", "window": "day"}]
    assert cost.budgets(_ctx(llm_groups=groups, budgets=budget)).status == "pass"
    rules = [{"name": "b", "kind": "budget"}]
    alerts = {"enabled": True, "rules": rules, "webhooks": []}
    assert cost.budget_alerts(_ctx(budgets=budget, alerts=alerts)).status == "warn"
    both = {**alerts, "rules": [*rules, {"name": "c", "kind": "cost_anomaly"}]}
    assert cost.budget_alerts(_ctx(budgets=budget, alerts=both)).status == "pass"
    assert cost.budget_alerts(_ctx(budgets=budget)).status == "fail"


def test_tls_is_judged_by_how_the_server_is_reached() -> None:
    assert security.tls(_ctx("https://bastion.internal")).status == "pass"
    local = security.tls(_ctx())
    assert local.status == "warn" and not local.automated  # a proxy in front: confirm by hand
    assert security.tls(_ctx("http://bastion.internal:8000")).status == "fail"


def test_production_aliases_need_gates() -> None:
    deps = [{"name": "churn", "model": "churn", "alias": "production"}]
    assert model.eval_gates(_ctx(deployments=deps)).status == "fail"
    gates = {"churn": {"production": {"sets": ["golden"]}}}
    assert model.eval_gates(_ctx(deployments=deps, gates=gates)).status == "pass"
    staging = [{**deps[0], "alias": "staging"}]
    assert model.eval_gates(_ctx(deployments=staging)).status == "skip"
