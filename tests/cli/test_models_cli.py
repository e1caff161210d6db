"""`bastion models …` and `bastion db upgrade` in-process, against a temporary data dir."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import pytest
from sklearn.linear_model import LogisticRegression
from typer.testing import CliRunner

from bastion.cli.main import app

runner = CliRunner()


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("BASTION_DATA_DIR", str(tmp_path / "data"))
    return tmp_path


def _model() -> LogisticRegression:
    return LogisticRegression().fit([[0.0, 1.0], [1.0, 0.0], [0.1, 0.9], [0.9, 0.2]], [0, 1, 0, 1])


def test_db_upgrade(data_dir: Path) -> None:
    result = runner.invoke(app, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert "database at head" in result.output


def test_skops_registers_and_pickle_needs_trust(data_dir: Path) -> None:
    import skops.io

    skops_file = data_dir / "model.skops"
    skops.io.dump(_model(), skops_file)
    ok = runner.invoke(
        app, ["models", "register", "scorer", str(skops_file), "--metric", "auc=0.9"]
    )
    assert ok.exit_code == 0, ok.output
    assert "version 1 (sklearn)" in ok.output

    pkl = data_dir / "model.pkl"
    pkl.write_bytes(pickle.dumps(_model()))
    refused = runner.invoke(app, ["models", "register", "legacy", str(pkl)])
    assert refused.exit_code == 1
    assert "--trust-pickle" in refused.output
    trusted = runner.invoke(app, ["models", "register", "legacy", str(pkl), "--trust-pickle"])
    assert trusted.exit_code == 0, trusted.output

    unknown = runner.invoke(
        app, ["models", "register", "scorer", str(skops_file), "--flavor", "tensorflow"]
    )
    assert unknown.exit_code == 1 and "known flavors: embedding, onnx" in unknown.output
    assert "version 2" not in runner.invoke(app, ["models", "list"]).output

    shown = runner.invoke(app, ["models", "show", "scorer", "1"])
    record = json.loads(shown.output)
    assert record["flavor"] == "sklearn" and record["metrics"] == {"auc": 0.9}
    assert len(record["artifact_sha256"]) == 64


def test_promote_rollback_history_and_errors(data_dir: Path) -> None:
    for _ in range(2):
        assert (
            runner.invoke(
                app, ["models", "register", "f", "--entry-point", "tests.fakes:echo"]
            ).exit_code
            == 0
        )
    assert runner.invoke(app, ["models", "promote", "f", "1"]).exit_code == 0
    assert runner.invoke(app, ["models", "promote", "f", "2"]).exit_code == 0
    back = runner.invoke(app, ["models", "rollback", "f"])
    assert back.exit_code == 0 and "now → v1" in back.output
    nothing = runner.invoke(app, ["models", "rollback", "f"])
    assert nothing.exit_code == 1 and "error (conflict)" in nothing.output
    missing = runner.invoke(app, ["models", "promote", "f", "9"])
    assert missing.exit_code == 1 and "not_found" in missing.output
    listed = runner.invoke(app, ["models", "list"])
    assert "production→v1" in listed.output
    verify = runner.invoke(app, ["models", "verify"])
    assert verify.exit_code == 0


def test_bad_config_is_exit_2(data_dir: Path) -> None:
    cfg = data_dir / "bad.yaml"
    cfg.write_text("limits: {max_depth: deep}\n")
    result = runner.invoke(app, ["models", "list", "--config", str(cfg)])
    assert result.exit_code == 2
    assert "limits.max_depth" in result.output
