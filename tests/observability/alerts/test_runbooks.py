"""Every alert rule, configured or exported, points at a runbook that exists in docs/runbooks."""

from __future__ import annotations

from pathlib import Path
from typing import get_args

import yaml

from bastion.observability.alerts.exports import prometheus_rules
from bastion.observability.alerts.rules import recommended_rules
from bastion.settings.alerts import RUNBOOKS, AlertRuleSettings, AlertSettings, RuleKind

ROOT = Path(__file__).resolve().parents[3]
RUNBOOK_DIR = ROOT / "docs" / "runbooks"
INCIDENTS = {
    "upstream-down",
    "latency-slo-breach",
    "error-spike",
    "budget-exhausted",
    "drift-alert",
    "review-backlog",
    "audit-verification-failure",
    "leaked-key",
    "database-failover",
    "bad-model-rollout",
    "bad-input-data",
}


def _exists(url: str) -> bool:
    assert url.startswith("docs/runbooks/"), url
    return (ROOT / url).is_file()


def test_every_incident_has_a_runbook_with_its_sections() -> None:
    for name in INCIDENTS:
        text = (RUNBOOK_DIR / f"{name}.md").read_text()
        for part in ("**Symptoms.**", "**Look at.**", "**Fix.**"):
            assert part in text, (name, part)
        assert "**Alert" in text, name


def test_every_rule_kind_has_a_runbook_that_exists() -> None:
    kinds = set(get_args(RuleKind))
    assert kinds == set(RUNBOOKS)
    for kind in kinds:
        rule = AlertRuleSettings(name="r", kind=kind, threshold=0.5)
        assert rule.runbook_url is not None and _exists(rule.runbook_url), kind


def test_every_exported_prometheus_rule_carries_an_existing_runbook() -> None:
    doc = yaml.safe_load(prometheus_rules(recommended_rules()))
    rules = doc["groups"][0]["rules"]
    assert rules
    for rule in rules:
        assert _exists(rule["annotations"]["runbook_url"]), rule["alert"]


def test_the_base_url_moves_default_runbooks_but_keeps_explicit_ones() -> None:
    settings = AlertSettings.model_validate(
        {
            "runbook_base_url": "https://runbooks.example.com/bastion/",
            "rules": [
                {"name": "lat", "kind": "latency_p95", "threshold": 300},
                {"name": "err", "kind": "error_rate", "threshold": 0.1, "runbook_url": "x.md"},
            ],
        }
    )
    urls = [r.runbook_url for r in settings.rules]
    assert urls == ["https://runbooks.example.com/bastion/latency-slo-breach.md", "x.md"]
