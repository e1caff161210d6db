"""`bastion eval …` and gated `bastion models promote|alias|approve`, in-process."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from bastion.cli.main import app

runner = CliRunner()
MODELS = "tests.evaluation.models"


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("BASTION_DATA_DIR", str(tmp_path / "data"))
    gate = {"thresholds": [{"set": "golden", "metric": "accuracy", "min": 0.9}], "approvals": 1}
    path = tmp_path / "bastion.yaml"
    path.write_text(yaml.safe_dump({"evaluation": {"gates": {"m": {"production": gate}}}}))
    return path


def _ok(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def _key(config: Path, role: str) -> str:
    out = _ok("keys", "create", "--name", f"k-{role}", "--role", role, "-c", str(config))
    return out.strip().splitlines()[-1]


def test_sets_run_reports_and_gated_promotion(config: Path, tmp_path: Path) -> None:
    c = ("-c", str(config))
    for fn in ("say", "say_v2"):
        _ok("models", "register", "m", "--entry-point", f"{MODELS}:{fn}", *c)
    csv = tmp_path / "golden.csv"
    csv.write_text("input,expected,slice.lang\n" + '"{""say"": ""a""}",a,en\n' * 3)
    out = _ok("eval", "sets", "register", "golden", str(csv), "--description", "d", *c)
    assert "registered eval set golden@1: 3 rows (csv)" in out and "slices: lang" in out
    assert "unchanged: this content is already golden@1" in _ok(
        "eval", "sets", "register", "golden", str(csv), *c
    )
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"input": 1, "expected": 1}\n{"input": 2, "expect": 2}\n')
    refused = runner.invoke(app, ["eval", "sets", "register", "golden", str(bad), *c])
    assert refused.exit_code == 1 and "line 2: unknown key 'expect'" in refused.output
    assert "golden@1" in _ok("eval", "sets", "list", *c)

    refused = runner.invoke(app, ["models", "promote", "m", "2", *c])
    assert refused.exit_code == 1 and "promotion_gate_failed" in refused.output
    assert "gate 'threshold' failed" in refused.output
    assert "gate 'approvals' failed" in refused.output

    out = _ok("eval", "run", "m@2", "--set", "golden", "--scorer", "accuracy", *c)
    assert "m v2 on golden@1" in out and "accuracy" in out and "lang=en" in out
    reports = json.loads(_ok("eval", "reports", "m", "--json", *c))
    assert reports[0]["metrics"] == {"accuracy": 1.0} and reports[0]["set_sha256"]
    per_class = _ok("eval", "run", "m@2", "--set", "golden", "--scorer", "f1", *c)
    assert "f1[a]" in per_class  # class names in brackets are not eaten as rich markup

    operator = _key(config, "operator")
    denied = runner.invoke(app, ["models", "approve", "m", "2", "--key", operator, *c])
    assert denied.exit_code == 1 and "does not hold the approver role" in denied.output
    approver = _key(config, "approver")
    out = _ok("models", "approve", "m", "2", "--key", approver, "--comment", "fine", *c)
    assert "approved m v2" in out
    twice = runner.invoke(app, ["models", "approve", "m", "2", "--key", approver, *c])
    assert twice.exit_code == 1 and "already approved" in twice.output

    assert "'production' now → v2" in _ok("models", "promote", "m", "2", *c)

    # v1 has no report and no approvals: the alias command refuses; an override needs a reason
    refused = runner.invoke(app, ["models", "alias", "m", "production", "1", *c])
    assert refused.exit_code == 1 and "gate 'threshold' failed" in refused.output
    bare = runner.invoke(app, ["models", "alias", "m", "production", "1", "--override", *c])
    assert bare.exit_code == 1 and "needs a reason" in bare.output
    out = _ok("models", "alias", "m", "production", "1", "--override", "--reason", "incident", *c)
    assert "gates overridden" in out and "'production' now → v1" in out
    audit = _ok("audit", "export", *c)
    overridden = [json.loads(line) for line in audit.splitlines() if "promotion_overridden" in line]
    assert overridden and overridden[0]["details"]["reason"] == "incident"
    assert "now → v2" in _ok("models", "rollback", "m", *c)  # rollback is never gated
