"""`bastion models …` as a client of a real server; `bastion db upgrade` locally."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import pytest
from sklearn.linear_model import LogisticRegression
from typer.testing import CliRunner

from bastion.cli.main import app
from tests.cli.conftest import UPLOAD_CAP, admin_actions, make_key, ok, refused
from tests.e2e.server import Server

pytestmark = pytest.mark.e2e
runner = CliRunner()


def _model() -> LogisticRegression:
    return LogisticRegression().fit([[0.0, 1.0], [1.0, 0.0], [0.1, 0.9], [0.9, 0.2]], [0, 1, 0, 1])


def _aliases(server: Server, name: str) -> dict[str, int]:
    return dict(server.get(f"/v1/admin/models/{name}").json()["aliases"])


def test_db_upgrade_is_local(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BASTION_DATA_DIR", str(tmp_path / "data"))
    result = runner.invoke(app, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert "database at head" in result.output


def test_skops_uploads_and_pickle_needs_trust(
    cli_server: Server, tmp_path: Path, elsewhere: Path
) -> None:
    import skops.io

    skops_file = tmp_path / "model.skops"
    skops.io.dump(_model(), skops_file)
    out = ok(cli_server, "models", "register", "scorer", str(skops_file), "--metric", "auc=0.9")
    assert "version 1 (sklearn)" in out

    pkl = tmp_path / "model.pkl"
    pkl.write_bytes(pickle.dumps(_model()))
    assert "--trust-pickle" in refused(cli_server, "models", "register", "legacy", str(pkl))
    ok(cli_server, "models", "register", "legacy", str(pkl), "--trust-pickle", cwd=elsewhere)

    unknown = refused(
        cli_server, "models", "register", "scorer", str(skops_file), "--flavor", "tensorflow"
    )
    assert "known flavors: embedding, onnx" in unknown
    assert "version 2" not in ok(cli_server, "models", "list")

    record = json.loads(ok(cli_server, "models", "show", "scorer", "1"))
    assert record["flavor"] == "sklearn" and record["metrics"] == {"auc": 0.9}
    assert len(record["artifact_sha256"]) == 64
    assert record["created_by"] == "admin (BASTION_ADMIN_KEY)"  # the key, not the OS user


def test_a_large_artifact_streams_and_one_over_the_cap_changes_nothing(
    cli_server: Server, tmp_path: Path
) -> None:
    big = tmp_path / "big.py"
    padding = "# " + "x" * 1022 + "\n"
    big.write_text("def predict(inputs):\n    return inputs\n" + padding * 3000)  # ~3 MB
    out = ok(cli_server, "models", "register", "big", str(big), "--entry-point", "predict")
    assert "registered big version 1 (python)" in out
    import hashlib

    record = json.loads(ok(cli_server, "models", "show", "big", "1"))
    assert record["artifact_sha256"] == hashlib.sha256(big.read_bytes()).hexdigest()

    huge = tmp_path / "huge.py"
    huge.write_text(big.read_text() + padding * (UPLOAD_CAP // 1024))
    said = refused(cli_server, "models", "register", "big", str(huge), "--entry-point", "predict")
    assert "413 payload_too_large" in said and str(UPLOAD_CAP) in said
    assert [v["version"] for v in cli_server.get("/v1/admin/models/big").json()["versions"]] == [1]
    assert not list((cli_server.data_dir / "uploads").glob("*/*"))  # no leftovers


def test_promote_rollback_history_and_errors(cli_server: Server) -> None:
    for _ in range(2):
        ok(cli_server, "models", "register", "f", "--entry-point", "tests.fakes:echo")
    ok(cli_server, "models", "promote", "f", "1")
    ok(cli_server, "models", "promote", "f", "2", "--reason", "newer")
    back = ok(cli_server, "models", "rollback", "f")
    assert "now → v1" in back
    nothing = refused(cli_server, "models", "rollback", "f")
    assert "409 conflict" in nothing
    assert "not_found" in refused(cli_server, "models", "promote", "f", "9")
    assert "production→v1" in ok(cli_server, "models", "list")
    history = ok(cli_server, "models", "history", "f")
    assert "rollback" in history and "promote" in history and "newer" in history
    moved = [r for r in admin_actions(cli_server) if r["target"] == "f"]
    assert [r["action"] for r in moved] == ["model.promoted", "model.promoted", "model.rolled_back"]
    assert {r["actor_name"] for r in moved} == {"admin (BASTION_ADMIN_KEY)"}


def test_verify_through_the_server_and_offline(cli_server: Server) -> None:
    ok(cli_server, "models", "register", "v", "--entry-point", "tests.fakes:echo")
    assert "ok v v1" in ok(cli_server, "models", "verify", "v")
    assert "ok v v1" in ok(cli_server, "models", "verify")
    # offline: the configured data dir read from this machine, no server asked
    offline = ok(cli_server, "models", "verify", "v", "--offline", env={"BASTION_URL": None})
    assert "ok v v1" in offline


def test_refused_operations_leave_everything_as_it_was(cli_server: Server) -> None:
    ok(cli_server, "models", "register", "r", "--entry-point", "tests.fakes:echo")
    ok(cli_server, "models", "register", "r", "--entry-point", "tests.fakes:echo")
    ok(cli_server, "models", "promote", "r", "1")
    operator = make_key(cli_server, "op-r", "operator")
    client = make_key(cli_server, "client-r", "client")
    before = (_aliases(cli_server, "r"), len(admin_actions(cli_server)))
    refused_before = len(admin_actions(cli_server, refusals=True))

    lacking = refused(cli_server, "models", "promote", "r", "2", env={"BASTION_KEY": client})
    assert "403" in lacking and "role" in lacking
    register = refused(
        cli_server, "models", "register", "r", "--entry-point", "x:y", env={"BASTION_KEY": operator}
    )
    assert "403" in register  # registering a version is for admins
    unknown = refused(cli_server, "models", "list", env={"BASTION_KEY": "bst_not_a_key"})
    assert "401" in unknown and "BASTION_KEY" in unknown
    assert "not_found" in refused(cli_server, "models", "alias", "r", "staging", "7")

    versions = cli_server.get("/v1/admin/models/r").json()["versions"]
    assert (_aliases(cli_server, "r"), len(admin_actions(cli_server))) == before
    assert [v["version"] for v in versions] == [1, 2]
    assert len(admin_actions(cli_server, refusals=True)) > refused_before  # each is evidence


def test_a_cli_without_a_data_dir_talks_to_the_server_at_url(
    cli_server: Server, elsewhere: Path
) -> None:
    ok(cli_server, "models", "register", "where", "--entry-point", "tests.fakes:echo")
    env: dict[str, str | None] = {"BASTION_DATA_DIR": None, "BASTION_URL": None}
    listed = ok(cli_server, "models", "list", "--url", cli_server.url, env=env, cwd=elsewhere)
    assert "where" in listed
    assert not (elsewhere / "data").exists() and not list(elsewhere.iterdir())
    # and without any server to ask it says where it tried, rather than using a local file
    gone = refused(cli_server, "models", "list", "--url", "http://127.0.0.1:9", env=env)
    assert "cannot reach Bastion at http://127.0.0.1:9" in gone


def test_bad_config_is_exit_2(cli_server: Server, tmp_path: Path) -> None:
    cfg = tmp_path / "bad.yaml"
    cfg.write_text("limits: {max_depth: deep}\n")
    env: dict[str, str | None] = {"BASTION_URL": None, "BASTION_KEY": None}
    done = cli_server.cli("models", "list", "--config", str(cfg), check=False, env=env)
    assert done.returncode == 2
    assert "limits.max_depth" in done.stderr


def test_training_data_is_profiled_by_the_server(cli_server: Server, tmp_path: Path) -> None:
    train = tmp_path / "train.csv"
    train.write_text("a,b,y\n" + "".join(f"{i},{i * 2},{i % 2}\n" for i in range(30)))
    out = ok(
        cli_server,
        "models",
        "register",
        "prof",
        "--entry-point",
        "tests.fakes:echo",
        "--training-data",
        str(train),
        "--label-column",
        "y",
    )
    assert "stored its drift profile (30 training rows)" in out
    again = ok(cli_server, "drift", "profile", "prof", "1", str(train), "--label-column", "y")
    assert "stored the drift profile of prof v1 (30 rows)" in again
    stored = [r for r in admin_actions(cli_server) if r["action"] == "drift.profile_stored"]
    assert [r["target"] for r in stored] == ["prof@1", "prof@1"]
    assert stored[0]["details"] == {"rows": 30}

    empty = tmp_path / "empty.csv"
    empty.write_text("a,b\n")
    done = cli_server.cli(
        "models",
        "register",
        "prof",
        "--entry-point",
        "x:y",
        "--training-data",
        str(empty),
        check=False,
    )
    assert done.returncode == 2 and "holds no rows" in done.stderr
    assert "not_found" in refused(cli_server, "drift", "profile", "prof", "9", str(train))
    versions = cli_server.get("/v1/admin/models/prof").json()["versions"]
    assert [v["version"] for v in versions] == [1]  # nothing registered by the refusals
