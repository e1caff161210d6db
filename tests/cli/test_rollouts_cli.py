"""`bastion canary …`, `bastion shadow report`, `bastion ab report` in-process."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from bastion.cli.main import app

runner = CliRunner()
MODELS = "tests.routing.rollouts.models"


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    config = {
        "deployments": [{"name": "d", "model": "m"}, {"name": "e", "model": "m"}],
        "rollouts": {
            "deployments": [
                {"deployment": "d", "canary": {"steps": [10, 100], "min_requests": 3}},
                {
                    "deployment": "e",
                    "ab": {"arms": [{"name": "a", "version": 1}, {"name": "b", "version": 2}]},
                },
            ]
        },
    }
    (tmp_path / "bastion.yaml").write_text(yaml.safe_dump(config))
    monkeypatch.setenv("BASTION_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("BASTION_CONFIG", str(tmp_path / "bastion.yaml"))
    for fn in ("stable", "same_label"):
        done = runner.invoke(app, ["models", "register", "m", "--entry-point", f"{MODELS}:{fn}"])
        assert done.exit_code == 0, done.output
    assert runner.invoke(app, ["models", "promote", "m", "1"]).exit_code == 0
    return tmp_path


def test_canary_start_status_abort(data_dir: Path) -> None:
    none = runner.invoke(app, ["canary", "status", "d"])
    assert none.exit_code == 0 and "has had no canary" in none.output

    started = runner.invoke(app, ["canary", "start", "d", "2", "--reason", "try it"])
    assert started.exit_code == 0, started.output
    assert "started: v2 against v1, steps 10%, 100%" in started.output
    again = runner.invoke(app, ["canary", "start", "d", "2"])
    assert again.exit_code == 1 and "already has a running canary" in again.output

    status = runner.invoke(app, ["canary", "status", "d"])
    assert status.exit_code == 0, status.output
    assert "v2 against v1 — running, step 1/2 at 10% traffic" in status.output
    assert "0/3 canary requests" in status.output
    raw = json.loads(runner.invoke(app, ["canary", "status", "d", "--json"]).output)
    assert raw["canary"]["status"] == "running" and raw["configured"]["min_requests"] == 3

    aborted = runner.invoke(app, ["canary", "abort", "d", "--reason", "enough"])
    assert aborted.exit_code == 0 and "aborted" in aborted.output
    aliases = json.loads(runner.invoke(app, ["models", "show", "m"]).output)["aliases"]
    assert aliases == {"production": 1, "canary": 1}
    twice = runner.invoke(app, ["canary", "abort", "d"])
    assert twice.exit_code == 1 and "no running canary" in twice.output


def test_canary_start_explains_mistakes(data_dir: Path) -> None:
    same = runner.invoke(app, ["canary", "start", "d", "1"])
    assert same.exit_code == 1 and "already serves deployment 'd'" in same.output
    missing = runner.invoke(app, ["canary", "start", "d", "7"])
    assert missing.exit_code == 1 and "has no version 7" in missing.output
    unknown = runner.invoke(app, ["canary", "start", "nope", "2"])
    assert unknown.exit_code == 1 and "no deployment named 'nope'" in unknown.output
    split = runner.invoke(app, ["canary", "start", "e", "2"])
    assert split.exit_code == 1 and "runs an A/B test" in split.output


def test_reports_before_any_traffic(data_dir: Path) -> None:
    shadow = runner.invoke(app, ["shadow", "report", "d"])
    assert shadow.exit_code == 0 and "no shadow calls recorded yet" in shadow.output
    ab = runner.invoke(app, ["ab", "report", "e"])
    assert ab.exit_code == 0, ab.output
    assert "not enough data" in ab.output and "no feedback source" in ab.output
    missing = runner.invoke(app, ["ab", "report", "d"])
    assert missing.exit_code == 1 and "has no A/B test" in missing.output
