"""`bastion canary …`, `bastion shadow report`, `bastion ab report` against a real server.

Regressions of the second door: a canary started from the CLI runs the server's configured
plan (not built-in defaults) and its start and abort are audited; the A/B report joins the
feedback the server holds, as the API does.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from tests.cli.conftest import ROLLOUT_MODELS, admin_actions, ok, refused
from tests.e2e.server import Server

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def served(cli_server: Server) -> Server:
    """Model ``m`` (v1 stable, v2 candidate) behind deployments d (canary) and e (A/B)."""
    for fn in ("stable", "same_label"):
        ok(cli_server, "models", "register", "m", "--entry-point", f"{ROLLOUT_MODELS}:{fn}")
    ok(cli_server, "models", "promote", "m", "1")
    return cli_server


def test_canary_start_status_abort_with_the_configured_plan_and_audited(
    served: Server, elsewhere: Path
) -> None:
    none = ok(served, "canary", "status", "d")
    assert "has had no canary" in none

    # no --config and another working directory: the server's plan (steps 10, 100) holds
    started = ok(served, "canary", "start", "d", "2", "--reason", "try it", cwd=elsewhere)
    assert "started: v2 against v1, steps 10%, 100%" in started
    assert "already has a running canary" in refused(served, "canary", "start", "d", "2")

    status = ok(served, "canary", "status", "d")
    assert "v2 against v1 — running, step 1/2 at 10% traffic" in status
    assert "0/3 canary requests" in status
    raw = json.loads(ok(served, "canary", "status", "d", "--json"))
    assert raw["canary"]["status"] == "running" and raw["configured"]["min_requests"] == 3

    aborted = ok(served, "canary", "abort", "d", "--reason", "enough")
    assert "aborted" in aborted
    aliases = json.loads(ok(served, "models", "show", "m"))["aliases"]
    assert aliases == {"production": 1, "canary": 1}
    assert "no running canary" in refused(served, "canary", "abort", "d")

    audited = [r for r in admin_actions(served) if r["action"].startswith("canary.")]
    assert [r["action"] for r in audited] == ["canary.start", "canary.abort"]
    assert {r["actor_name"] for r in audited} == {"admin (BASTION_ADMIN_KEY)"}
    assert audited[0]["details"]["plan"]["steps"] == [10.0, 100.0]
    assert audited[1]["details"]["reason"] == "enough"


def test_canary_start_explains_mistakes_and_changes_nothing(served: Server) -> None:
    before = json.loads(ok(served, "models", "show", "m"))["aliases"]
    assert "already serves deployment 'd'" in refused(served, "canary", "start", "d", "1")
    assert "has no version 7" in refused(served, "canary", "start", "d", "7")
    assert "no deployment named 'nope'" in refused(served, "canary", "start", "nope", "2")
    assert "runs an A/B test" in refused(served, "canary", "start", "e", "2")
    assert json.loads(ok(served, "models", "show", "m"))["aliases"] == before


def test_reports_before_any_traffic(served: Server) -> None:
    assert "no shadow calls recorded yet" in ok(served, "shadow", "report", "d")
    ab = ok(served, "ab", "report", "e")
    assert "not enough data" in ab and "no feedback source" not in ab
    assert "has no A/B test" in refused(served, "ab", "report", "d")


def _predict(server: Server, deployment: str, n: int) -> str:
    r = server.post(f"/v1/deployments/{deployment}/predict", json={"input": {"n": n}})
    assert r.status_code == 200, r.text
    return str(r.headers["x-request-id"])


def _until(check: Any, what: str, attempts: int = 300) -> Any:
    for _ in range(attempts):
        found = check()
        if found:
            return found
        time.sleep(0.05)
    pytest.fail(f"gave up waiting for {what}")


def test_ab_report_joins_feedback_like_the_api(served: Server) -> None:
    for fn in ("stable", "same_label"):
        ok(served, "models", "register", "abx", "--entry-point", f"{ROLLOUT_MODELS}:{fn}")
    ok(served, "models", "promote", "abx", "1")
    _until(lambda: served.get("/v1/deployments/abx").status_code == 200, "abx served")
    ids = [_predict(served, "abx", n) for n in range(6)]

    def scored(rid: str) -> bool:
        r = served.post("/v1/feedback", json={"request_id": rid, "score": 1.0})
        return r.status_code == 201

    for rid in ids:  # the prediction log is written in batches: retry until it is there
        _until(lambda rid=rid: scored(rid), f"feedback on {rid}")

    def joined() -> dict[str, Any] | None:
        report = json.loads(ok(served, "ab", "report", "abx", "--json"))
        return report if sum(a["outcomes"] for a in report["arms"]) == 6 else None

    report = _until(joined, "six outcomes in the CLI's A/B report", attempts=60)
    api = served.get("/v1/admin/deployments/abx/ab").json()
    assert report["outcomes_available"] and api["outcomes_available"]
    assert [a["outcomes"] for a in report["arms"]] == [a["outcomes"] for a in api["arms"]]
    table = ok(served, "ab", "report", "abx")
    assert "no feedback source" not in table and "1 (" in table
