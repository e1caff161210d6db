"""`bastion export prometheus-rules` and `bastion export grafana-dashboard`."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from typer.testing import CliRunner

from bastion.cli.main import app

runner = CliRunner()

CONFIG = """
alerts:
  rules:
    - {name: checkout-errors, kind: error_rate, threshold: 0.02, window_s: 600, for_s: 120,
       severity: critical, deployments: [checkout]}
    - {name: checkout-slo, kind: latency_p95, threshold: 300, for_s: 300}
"""


def test_prometheus_rules_from_the_config(tmp_path: Path) -> None:
    config = tmp_path / "bastion.yaml"
    config.write_text(CONFIG)
    out = tmp_path / "rules.yaml"
    result = runner.invoke(
        app, ["export", "prometheus-rules", "-c", str(config), "-o", str(out), "--group", "ml"]
    )
    assert result.exit_code == 0, result.output
    doc = yaml.safe_load(out.read_text())
    assert doc["groups"][0]["name"] == "ml"
    first, second = doc["groups"][0]["rules"]
    assert first["alert"] == "BastionCheckoutErrors" and first["for"] == "2m"
    assert 'deployment=~"checkout"' in first["expr"] and "[10m]" in first["expr"]
    assert second["labels"]["bastion_rule"] == "checkout-slo"


def test_without_rules_the_recommended_set_is_exported(tmp_path: Path) -> None:
    result = runner.invoke(app, ["export", "prometheus-rules"], env={"BASTION_CONFIG": ""})
    assert result.exit_code == 0, result.output
    assert "BastionErrorRate" in result.stdout
    assert "recommended starting set" in result.output


def test_grafana_dashboard_is_json(tmp_path: Path) -> None:
    config = tmp_path / "bastion.yaml"
    config.write_text(CONFIG)
    result = runner.invoke(app, ["export", "grafana-dashboard", "-c", str(config)])
    assert result.exit_code == 0, result.output
    dash = json.loads(result.stdout)
    titles = [p["title"] for p in dash["panels"]]
    assert "Latency p95" in titles and "Error rate (server-side)" in titles


def test_a_bad_rule_is_named(tmp_path: Path) -> None:
    config = tmp_path / "bastion.yaml"
    config.write_text("alerts:\n  rules:\n    - {name: x, kind: error_rate, threshold: 2}\n")
    result = runner.invoke(app, ["export", "prometheus-rules", "-c", str(config)])
    assert result.exit_code == 2
    assert "alerts.rules.0" in result.output and "share between 0 and 1" in result.output
