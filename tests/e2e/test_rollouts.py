"""Rollouts through real servers: a failing canary rolls back by itself, shadow traffic leaves
live answers alone, A/B arms are sticky and reported. The models below are the fakes."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from bastion.routing.rollouts.config import ab_plan
from bastion.settings.rollouts import AbSettings
from tests.e2e.server import Server, make_server

pytestmark = pytest.mark.e2e
HERE = "tests.e2e.test_rollouts"


# -- the fake models (python flavor, registered by entry point) ---------------------------


def steady(inputs: list[Any]) -> list[Any]:
    return [{"output": {"label": "ok"}, "confidence": 0.9} for _ in inputs]


def flaky(inputs: list[Any]) -> list[Any]:
    """Healthy until the flag file named by ROLLOUT_FAIL_FLAG exists."""
    if Path(os.environ["ROLLOUT_FAIL_FLAG"]).exists():
        raise RuntimeError("the new version started failing")
    return [{"output": {"label": "ok"}, "confidence": 0.8} for _ in inputs]


def live_model(inputs: list[Any]) -> list[Any]:
    return [{"output": {"label": f"even-{x['x'] % 2 == 0}"}, "confidence": 0.9} for x in inputs]


async def shadow_model(inputs: list[Any]) -> list[Any]:
    """Marks that it started, then waits for the test's release file before answering; it
    agrees with ``live_model`` on even inputs only."""
    folder = Path(os.environ["ROLLOUT_SHADOW_DIR"])
    (folder / f"started-{os.getpid()}-{time.monotonic_ns()}").touch()
    while not (folder / "release").exists():
        await asyncio.sleep(0.01)
    return [{"output": {"label": "even-True" if x["x"] % 2 == 0 else "odd"}} for x in inputs]


def arm_one(inputs: list[Any]) -> list[Any]:
    return [{"output": {"label": "one"}, "confidence": 0.9} for _ in inputs]


def arm_two(inputs: list[Any]) -> list[Any]:
    return [{"output": {"label": "two"}, "confidence": 0.6} for _ in inputs]


# -- helpers ------------------------------------------------------------------------------


def _server(tmp_path: Path, config: dict[str, Any], **env: str) -> Server:
    path = tmp_path / "bastion.yaml"
    path.write_text(yaml.safe_dump(config))
    return make_server(tmp_path / "data", BASTION_DEMO="false", BASTION_CONFIG=str(path), **env)


def _register(server: Server, model: str, *entry_points: str) -> None:
    for fn in entry_points:
        server.cli("models", "register", model, "--entry-point", f"{HERE}:{fn}")


def _promote_first(server: Server, *models: str) -> None:
    for model in models:
        r = server.post(f"/v1/admin/models/{model}/promote", json={"version": 1})
        assert r.status_code == 200, r.text


def _until(check: Callable[[], Any], what: str, attempts: int = 400) -> Any:
    """Poll a state (never a timing): the value ``check`` returns once it is truthy."""
    for _ in range(attempts):
        found = check()
        if found:
            return found
        time.sleep(0.05)
    pytest.fail(f"gave up waiting for {what}")


def _predict(server: Server, deployment: str, item: Any, **kw: Any) -> Any:
    return server.post(f"/v1/deployments/{deployment}/predict", json={"input": item}, **kw)


# -- canary -------------------------------------------------------------------------------


def test_failing_canary_is_rolled_back_without_human_action(tmp_path: Path) -> None:
    flag = tmp_path / "fail-now"
    canary = {
        "steps": [50, 80, 100],
        "step_s": 0.3,
        "min_requests": 5,
        "max_latency_increase": None,
        "slo": {"max_error_rate": 0.1},
    }
    config = {
        "deployments": [{"name": "scorer", "model": "scorer"}],
        "rollouts": {
            "tick_s": 0.05,
            "persist_interval_s": 0.1,
            "deployments": [{"deployment": "scorer", "canary": canary}],
        },
    }
    server = _server(tmp_path, config, ROLLOUT_FAIL_FLAG=str(flag))
    server.start()
    try:
        _register(server, "scorer", "steady", "flaky")
        _promote_first(server, "scorer")
        r = server.post("/v1/admin/deployments/scorer/canary", json={"version": 2})
        assert r.status_code == 201, r.text
        assert r.json()["stable_version"] == 1 and r.json()["traffic"] == 50

        def status() -> dict[str, Any]:
            r = server.get("/v1/admin/deployments/scorer/canary")
            assert r.status_code == 200, r.text
            return dict(r.json())

        def healthy_traffic_until_step_two() -> bool:
            r = _predict(server, "scorer", {"x": 1})
            assert r.status_code == 200, r.text  # a healthy canary serves its share
            return bool(status()["canary"]["step"] == 2)

        _until(healthy_traffic_until_step_two, "the healthy canary to reach step 2")
        flag.touch()  # the new version starts failing

        reserved = []

        def traffic_until_rolled_back() -> bool:
            r = _predict(server, "scorer", {"x": 1})
            # a failed canary call is answered by the stable version: no client error
            assert r.status_code == 200, r.text
            if "x-bastion-arm" not in r.headers:
                # no rollout routed this call: the rollback has already happened
                return bool(status()["canary"]["status"] == "rolled_back")
            assert r.headers["x-bastion-arm"] in ("stable", "canary")
            if "x-bastion-reserved-from" in r.headers:
                assert r.headers["x-bastion-reserved-from"] == "canary v2"
                assert (r.headers["x-bastion-arm"], r.headers["x-bastion-model-version"]) == (
                    "stable",
                    "1",
                )
                reserved.append(r)
            return bool(status()["canary"]["status"] == "rolled_back")

        _until(traffic_until_rolled_back, "the automatic rollback")
        assert reserved  # the failures counted against the canary's SLO, not the client
        final = status()
        assert final["canary"]["traffic"] == 0 and "error_rate" in final["canary"]["reason"]
        assert [e["action"] for e in final["events"]] == [
            "started",
            "advanced",
            "rolled_back",
        ]
        assert final["events"][-1]["actor"] == "rollouts"
        aliases = server.get("/v1/admin/models/scorer").json()["aliases"]
        assert aliases == {"production": 1, "canary": 1}  # the canary alias points back
        history = server.get("/v1/admin/models/scorer/history?alias=canary").json()["data"]
        assert history[-1]["version"] == 1 and history[-1]["actor"] == "rollouts"

        for i in range(10):  # every call on the stable version again, no arm any more
            r = _predict(server, "scorer", {"x": i})
            assert r.status_code == 200, r.text
            assert r.headers["x-bastion-model-version"] == "1"
            assert "x-bastion-arm" not in r.headers

        def alerted() -> list[dict[str, Any]]:
            r = server.get("/v1/admin/alerts?rule=canary_rolled_back")
            assert r.status_code == 200, r.text
            return list(r.json()["data"])

        (alert,) = _until(alerted, "the rollback alert")
        assert alert["deployment"] == "scorer" and alert["severity"] == "critical"

        def audited() -> list[dict[str, Any]]:
            r = server.get("/v1/admin/audit?action=canary.rollback")
            assert r.status_code == 200, r.text
            return list(r.json()["data"])

        (record,) = _until(audited, "the rollback's audit record")
        assert record["actor_name"] == "rollouts" and "scorer" in record["target"]
        shown = server.cli("canary", "status", "scorer").stdout
        assert "rolled_back" in shown and "error_rate" in shown
    finally:
        server.stop()


# -- shadow and A/B -----------------------------------------------------------------------

AB_ARMS = [{"name": "a", "version": 1}, {"name": "b", "version": 2}]


def test_shadow_and_ab(tmp_path: Path) -> None:
    shadow_dir = tmp_path / "shadow"
    shadow_dir.mkdir()
    config = {
        "deployments": [
            {"name": "echoer", "model": "echoer"},
            {"name": "ranker", "model": "ranker"},
            {"name": "ranker-e", "model": "ranker"},
        ],
        "rollouts": {
            "tick_s": 0.05,
            "persist_interval_s": 0.1,
            "deployments": [
                {"deployment": "echoer", "shadow": {"version": 2, "share": 1.0}},
                {"deployment": "ranker", "ab": {"arms": AB_ARMS, "min_samples": 1000}},
                {
                    "deployment": "ranker-e",
                    "ab": {
                        "arms": AB_ARMS,
                        "sticky": {"entity_field": "customer"},
                        "min_samples": 5,
                    },
                },
            ],
        },
    }
    server = _server(tmp_path, config, ROLLOUT_SHADOW_DIR=str(shadow_dir))
    server.start()
    try:
        _register(server, "echoer", "live_model", "shadow_model")
        _register(server, "ranker", "arm_one", "arm_two")
        _promote_first(server, "echoer", "ranker")
        _check_shadow(server, shadow_dir)
        _check_ab_by_key(server)
        _check_ab_by_entity(server)
    finally:
        (shadow_dir / "release").touch()
        server.stop()


def _check_shadow(server: Server, shadow_dir: Path) -> None:
    first = _predict(server, "echoer", {"x": 0})
    assert first.status_code == 200, first.text
    # the candidate has started on the mirrored call, and is still blocked: the live answer
    # came back without waiting for it
    _until(lambda: list(shadow_dir.glob("started-*")), "the shadow candidate to start")
    assert not (shadow_dir / "release").exists()
    answers = [first] + [_predict(server, "echoer", {"x": x}) for x in range(1, 6)]
    for x, r in enumerate(answers):
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["output"] == live_model([{"x": x}])[0]["output"]  # the live answer
        assert body["version"] == 1 and r.headers["x-bastion-model-version"] == "1"
        assert "x-bastion-arm" not in r.headers
    (shadow_dir / "release").touch()

    def compared() -> dict[str, Any] | None:
        report = server.get("/v1/admin/deployments/echoer/shadow").json()
        cands = report["candidates"]
        return cands[0] if cands and cands[0]["compared"] == 6 else None

    candidate = _until(compared, "six compared shadow calls")
    assert candidate["version"] == 2 and candidate["sampled"] == 6
    assert candidate["agreed"] == 3 and candidate["candidate_errors"] == 0
    line = "candidate echoer v2: agreement 50.0% (3/6 outputs), errors 0"
    _until(  # the CLI reads what the server persisted (every persist_interval_s)
        lambda: line in server.cli("shadow", "report", "echoer").stdout, "the CLI report", 20
    )


def _check_ab_by_key(server: Server) -> None:
    plan = ab_plan(AbSettings(arms=AB_ARMS, min_samples=1000))
    for i in range(4):
        made = server.post("/v1/admin/keys", json={"name": f"client{i}", "roles": ["client"]})
        assert made.status_code == 201, made.text
        key, key_id = made.json()["key"], made.json()["data"]["id"]
        expected = plan.arm_for(f"key:{key_id}", "ranker").name
        for _ in range(3):
            r = _predict(server, "ranker", {"q": "x"}, headers={"Authorization": f"Bearer {key}"})
            assert r.status_code == 200, r.text
            assert r.headers["x-bastion-arm"] == expected  # the same key, the same arm
            assert r.json()["output"]["label"] == ("one" if expected == "a" else "two")
    report = server.get("/v1/admin/deployments/ranker/ab").json()
    assert report["verdict"].startswith("not enough data") and report["sticky"] == "key"


def _check_ab_by_entity(server: Server) -> None:
    plan = ab_plan(AbSettings(arms=AB_ARMS, sticky={"entity_field": "customer"}))
    customers = [f"cust-{i}" for i in range(40)]
    by_arm: dict[str, list[str]] = {"a": [], "b": []}
    for c in customers:
        by_arm[plan.arm_for(f"entity:{c}", "ranker-e").name].append(c)
    chosen = by_arm["a"][:3] + by_arm["b"][:3]
    for c in chosen:
        for i in range(2):
            r = _predict(server, "ranker-e", {"customer": c, "i": i})
            assert r.status_code == 200, r.text
            assert r.headers["x-bastion-arm"] == ("a" if c in by_arm["a"] else "b")

    def reported() -> dict[str, Any] | None:
        report = server.get("/v1/admin/deployments/ranker-e/ab").json()
        return report if sum(a["requests"] for a in report["arms"]) == 12 else None

    report = _until(reported, "twelve requests in the A/B report")
    assert [a["requests"] for a in report["arms"]] == [6, 6]
    assert report["enough_data"] and report["tests"]

    def printed() -> str | None:  # the CLI reads what the server persisted
        out = server.cli("ab", "report", "ranker-e").stdout
        return out if "p =" in out else None

    shown = _until(printed, "the CLI report with its tests", 20)
    assert "verdict:" in shown and "error_rate" in shown
