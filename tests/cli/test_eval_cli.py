"""`bastion eval …` and gated `bastion models promote|alias|approve`, through a real server."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.conftest import EVAL_MODELS, admin_actions, make_key, ok, refused
from tests.e2e.server import Server

pytestmark = pytest.mark.e2e


def _aliases(server: Server) -> dict[str, int]:
    return dict(server.get("/v1/admin/models/g").json()["aliases"])


def test_sets_run_reports_and_gated_promotion(
    cli_server: Server, tmp_path: Path, elsewhere: Path
) -> None:
    s = cli_server
    for fn in ("say", "say_v2"):
        ok(s, "models", "register", "g", "--entry-point", f"{EVAL_MODELS}:{fn}")
    csv = tmp_path / "golden.csv"
    csv.write_text("input,expected,slice.lang\n" + '"{""say"": ""a""}",a,en\n' * 3)
    out = ok(s, "eval", "sets", "register", "golden", str(csv), "--description", "d", cwd=elsewhere)
    assert "registered eval set golden@1: 3 rows (csv)" in out and "slices: lang" in out
    again = ok(s, "eval", "sets", "register", "golden", str(csv))
    assert "unchanged: this content is already golden@1" in again
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"input": 1, "expected": 1}\n{"input": 2, "expect": 2}\n')
    assert "line 2: unknown key 'expect'" in refused(
        s, "eval", "sets", "register", "golden", str(bad)
    )
    listed = ok(s, "eval", "sets", "list")
    assert "golden@1" in listed and "golden@2" not in listed

    gated = refused(s, "models", "promote", "g", "2")
    assert "promotion_gate_failed" in gated
    assert "gate 'threshold' failed" in gated and "gate 'approvals' failed" in gated
    assert _aliases(s) == {}

    out = ok(s, "eval", "run", "g@2", "--set", "golden", "--scorer", "accuracy")
    assert "g v2 on golden@1" in out and "accuracy" in out and "lang=en" in out
    reports = json.loads(ok(s, "eval", "reports", "g", "--json"))
    assert reports[0]["metrics"] == {"accuracy": 1.0} and reports[0]["set_sha256"]
    per_class = ok(s, "eval", "run", "g@2", "--set", "golden", "--scorer", "f1")
    assert "f1[a]" in per_class  # class names in brackets are not eaten as rich markup

    operator = make_key(s, "k-operator", "operator")
    denied = refused(s, "models", "approve", "g", "2", "--key", operator)
    assert "does not hold the approver role" in denied
    approver = make_key(s, "k-approver", "approver")
    out = ok(s, "models", "approve", "g", "2", "--key", approver, "--comment", "fine")
    assert "k-approver approved g v2" in out
    assert "already approved" in refused(s, "models", "approve", "g", "2", "--key", approver)

    assert "'production' now → v2" in ok(s, "models", "promote", "g", "2")

    # v1 has no report and no approvals: refused; an override needs a reason and an admin
    assert "gate 'threshold' failed" in refused(s, "models", "alias", "g", "production", "1")
    bare = refused(s, "models", "alias", "g", "production", "1", "--override")
    assert "needs a reason" in bare
    by_operator = refused(
        s,
        "models",
        "alias",
        "g",
        "production",
        "1",
        "--override",
        "--reason",
        "x",
        env={"BASTION_KEY": operator},
    )
    assert "only an admin may override" in by_operator
    assert _aliases(s) == {"production": 2}
    done = s.cli("models", "alias", "g", "production", "1", "--override", "--reason", "incident")
    assert done.returncode == 0, done.stderr
    assert "gates overridden" in done.stderr and "'production' now → v1" in done.stdout
    overridden = [r for r in admin_actions(s) if r["action"] == "model.promotion_overridden"]
    assert overridden and overridden[0]["details"]["reason"] == "incident"
    assert "now → v2" in ok(s, "models", "rollback", "g")  # rollback is never gated
