"""Refusals change nothing: every admin route's refusal paths (bad input, unknown names,
conflicts, gate failures, wrong role) through a real server, with the whole state compared
before and after each (tests/e2e/state.py; audit rows, which a refusal may add, excluded)."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.e2e.server import Server, make_server
from tests.e2e.state import changes, snapshot

pytestmark = pytest.mark.e2e
HERE = "tests.e2e.test_rollouts"
ECHO = "def predict(inputs):\n    return [{'output': {'echo': x}} for x in inputs]\n"


def _server(tmp_path: Path) -> Server:
    canary = {"steps": [10, 50, 100], "step_s": 3600, "min_requests": 100_000}
    config = {
        "deployments": [{"name": "scorer", "model": "scorer"}, {"name": "echo", "model": "echo"}],
        "rollouts": {
            "tick_s": 0.05,
            "persist_interval_s": 0.1,
            "deployments": [{"deployment": "scorer", "canary": canary}],
        },
    }
    path = tmp_path / "bastion.yaml"
    path.write_text(yaml.safe_dump(config))
    return make_server(tmp_path / "data", BASTION_DEMO="false", BASTION_CONFIG=str(path))


def _ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def _register(server: Server, model: str, **body: Any) -> int:
    answer = _ok(server.post(f"/v1/admin/models/{model}/versions", json=body), 201)
    return int(answer["version"])


def _tamper(server: Server, model: str, version: int) -> None:
    shown = _ok(server.get(f"/v1/admin/models/{model}/versions/{version}"))
    stored = next((server.data_dir / "artifacts").rglob(shown["artifact_sha256"]))
    stored.chmod(0o644)
    stored.write_bytes(stored.read_bytes() + b"# one more line\n")


def _key(server: Server, name: str, *roles: str) -> dict[str, str]:
    made = _ok(server.post("/v1/admin/keys", json={"name": name, "roles": list(roles)}), 201)
    return {"Authorization": f"Bearer {made['key']}"}


def _prepare(server: Server) -> dict[str, dict[str, str]]:
    """scorer: v1, v2 in production, a canary of v3 running; echo: v1 in production and a
    tampered v2; an operator and a reviewer key."""
    for _ in range(3):
        _register(server, "scorer", flavor="python", params={"entry_point": f"{HERE}:steady"})
    for n in range(2):
        _register(
            server,
            "echo",
            flavor="python",
            artifact_base64=base64.b64encode((ECHO + "\n" * n).encode()).decode(),
            artifact_name="echo.py",
            params={"entry_point": "predict"},
        )
    for model, version in (("scorer", 1), ("scorer", 2), ("echo", 1)):
        _ok(server.post(f"/v1/admin/models/{model}/promote", json={"version": version}))
    _ok(server.post("/v1/admin/deployments/scorer/canary", json={"version": 3}), 201)
    _tamper(server, "echo", 2)
    return {
        "admin": server.auth,
        "operator": _key(server, "ops", "operator"),
        "reviewer": _key(server, "rev", "reviewer"),
        "nobody": {},
    }


# (who, method, path, body, expected status, expected error type or None)
REFUSALS: list[tuple[str, str, str, Any, int, str | None]] = [
    # the defect: a refused canary start moved the canary alias and replaced the canary
    ("operator", "POST", "/v1/admin/deployments/scorer/canary", {"version": 1}, 409, "conflict"),
    ("operator", "POST", "/v1/admin/deployments/scorer/canary", {"version": 2}, 409, "conflict"),
    ("operator", "POST", "/v1/admin/deployments/scorer/canary", {"version": 99}, 404, None),
    ("operator", "POST", "/v1/admin/deployments/scorer/canary", {"version": 0}, 422, None),
    ("operator", "POST", "/v1/admin/deployments/scorer/canary", {"v": 1}, 422, None),
    ("operator", "POST", "/v1/admin/deployments/nope/canary", {"version": 1}, 404, None),
    ("reviewer", "POST", "/v1/admin/deployments/scorer/canary", {"version": 1}, 403, None),
    ("nobody", "POST", "/v1/admin/deployments/scorer/canary", {"version": 1}, 401, None),
    ("reviewer", "POST", "/v1/admin/deployments/scorer/canary/abort", {}, 403, None),
    ("operator", "POST", "/v1/admin/deployments/nope/canary/abort", {}, 404, None),
    ("operator", "POST", "/v1/admin/deployments/echo/canary/abort", {}, 409, None),
    # promotion: a tampered artifact, unknown names, nothing to change, bad input, roles
    ("operator", "POST", "/v1/admin/models/echo/promote", {"version": 2}, 409, "artifact_tampered"),
    ("admin", "PUT", "/v1/admin/models/echo/aliases/staging", {"version": 2}, 409, None),
    ("operator", "POST", "/v1/admin/models/nope/promote", {"version": 1}, 404, None),
    ("operator", "POST", "/v1/admin/models/scorer/promote", {"version": 99}, 404, None),
    ("operator", "POST", "/v1/admin/models/scorer/promote", {"version": 2}, 409, "conflict"),
    ("operator", "POST", "/v1/admin/models/scorer/promote", {"version": "x"}, 422, None),
    (
        "operator",
        "POST",
        "/v1/admin/models/scorer/promote",
        {"version": 1, "alias": "Bad Alias"},
        422,
        None,
    ),
    ("reviewer", "POST", "/v1/admin/models/scorer/promote", {"version": 1}, 403, None),
    ("operator", "POST", "/v1/admin/models/echo/rollback", {}, 409, None),
    ("operator", "POST", "/v1/admin/models/echo/rollback", {"alias": "staging"}, 409, None),
    ("operator", "POST", "/v1/admin/models/nope/rollback", {}, 404, None),
    ("operator", "PUT", "/v1/admin/models/scorer/aliases/latest", {"version": 1}, 422, None),
    ("operator", "PUT", "/v1/admin/models/nope/aliases/staging", {"version": 1}, 404, None),
    # registration and keys
    ("admin", "POST", "/v1/admin/models/scorer/versions", {"flavor": ""}, 422, None),
    ("admin", "POST", "/v1/admin/models/scorer/versions", {"flavor": "nope"}, 422, None),
    (
        "admin",
        "POST",
        "/v1/admin/models/scorer/versions",
        {"flavor": "python", "artifact_base64": "!!"},
        422,
        None,
    ),
    ("admin", "POST", "/v1/admin/models/Bad Name/versions", {"flavor": "python"}, 422, None),
    ("operator", "POST", "/v1/admin/models/scorer/versions", {"flavor": "python"}, 403, None),
    ("admin", "POST", "/v1/admin/keys", {"name": "x", "roles": ["wizard"]}, 422, None),
    ("admin", "POST", "/v1/admin/keys", {"name": "", "roles": ["operator"]}, 422, None),
    ("operator", "POST", "/v1/admin/keys", {"name": "x", "roles": ["admin"]}, 403, None),
    ("admin", "POST", "/v1/admin/keys/nope/rotate", {}, 404, None),
    ("operator", "POST", "/v1/admin/keys/nope/rotate", {}, 403, None),
    ("admin", "DELETE", "/v1/admin/keys/nope", None, 404, None),
    # evaluation, approvals, alerts, review, drift, feedback
    ("admin", "POST", "/v1/admin/eval/sets", {"name": "s", "content": "not json"}, 422, None),
    ("reviewer", "POST", "/v1/admin/eval/sets", {"name": "s", "content": "{}"}, 403, None),
    ("admin", "POST", "/v1/admin/eval/runs", {"model": "nope@1", "set": "s"}, 404, None),
    ("admin", "POST", "/v1/admin/models/scorer/versions/1/approvals", {}, 403, None),
    ("admin", "POST", "/v1/admin/alerts/999/ack", None, 404, None),
    ("admin", "POST", "/v1/review/items/nope/decide", {"action": "approve"}, 404, None),
    ("admin", "POST", "/v1/review/items/nope/claim", None, 404, None),
    ("admin", "POST", "/v1/admin/predictions/x/override", {"output": 1, "reason": "r"}, 404, None),
    ("admin", "POST", "/v1/admin/deployments/nope/drift/baseline", {}, 404, None),
    (
        "admin",
        "POST",
        "/v1/admin/deployments/scorer/drift/baseline",
        {"rows": 200, "since": "2026-01-01T00:00:00Z"},
        422,
        None,
    ),
]


def test_every_refusal_leaves_the_state_as_it_was(tmp_path: Path) -> None:
    server = _server(tmp_path).start()
    try:
        keys = _prepare(server)
        url = server.env.get("BASTION_DATABASE_URL") or (
            f"sqlite:///{server.data_dir.resolve() / 'bastion.db'}"
        )
        before = snapshot(url)
        assert before["rollout_canaries"] and before["model_aliases"]
        refused = []
        for who, method, path, body, status, error_type in REFUSALS:
            kw: dict[str, Any] = {"headers": keys[who], "timeout": 30}
            if body is not None:
                kw["json"] = body
            answer = server.request(method, path, **kw)
            where = f"{who} {method} {path} {body}"
            assert answer.status_code == status, f"{where}: {answer.status_code} {answer.text}"
            if error_type is not None:
                assert answer.json()["error"]["type"] == error_type, where
            assert changes(before, snapshot(url)) == {}, f"{where} changed the state"
            refused.append(where)
        assert len(refused) == len(REFUSALS)

        status = _ok(server.get("/v1/admin/deployments/scorer/canary"))
        assert (status["canary"]["version"], status["canary"]["status"]) == (3, "running")
        aliases = _ok(server.get("/v1/admin/models/scorer"))["aliases"]
        assert aliases == {"production": 2, "canary": 3}
        tampered = server.post("/v1/admin/models/echo/promote", json={"version": 2}).json()
        message = tampered["error"]["message"]
        assert "version 2 of model 'echo'" in message and str(server.data_dir) not in message
        assert changes(before, snapshot(url)) == {}
    finally:
        server.stop()


def test_a_refused_promotion_of_a_tampered_artifact_survives_a_restart(tmp_path: Path) -> None:
    server = _server(tmp_path).start()
    try:
        _prepare(server)
        refused = server.post("/v1/admin/models/echo/promote", json={"version": 2})
        assert refused.status_code == 409 and refused.json()["error"]["type"] == "artifact_tampered"
        server.stop()
        server.start()
        served = server.post("/v1/deployments/echo/predict", json={"input": "hi"})
        assert served.status_code == 200, served.text
        assert served.headers["x-bastion-model-version"] == "1"
    finally:
        server.stop()
