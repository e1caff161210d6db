"""Late labels through a real server: predictions, feedback (and its refusals), an operator's
override, and accuracy, macro-F1 and MAE per version and segment, exactly as the labels say."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sklearn.metrics import f1_score

from tests.e2e.server import Server, make_server

pytestmark = pytest.mark.e2e


def triage(inputs: list[Any]) -> list[Any]:
    """A classifier that says what its input tells it to."""
    return [{"output": {"label": item["says"]}, "confidence": 0.9} for item in inputs]


def price(inputs: list[Any]) -> list[Any]:
    """A regressor: 100 per room."""
    return [{"output": {"value": 100.0 * item["rooms"]}} for item in inputs]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    root = tmp_path_factory.mktemp("feedback")
    config = root / "bastion.yaml"
    segments = [{"name": "country", "field": "country"}, {"name": "plan", "header": "plan"}]
    monitoring = {
        "accuracy_windows": [{"last": 100}, {"hours": 24}],
        "deployments": [{"deployment": "triage", "segments": segments}],
    }
    config.write_text(json.dumps({"monitoring": monitoring}))
    server = make_server(root / "data", BASTION_DEMO="false", BASTION_CONFIG=str(config))
    server.start()
    try:
        for name in ("triage", "price"):
            entry = f"tests.e2e.test_feedback:{name}"  # shared: another tenant calls them too
            server.cli("models", "register", name, "--entry-point", entry, "--shared")
            server.cli("models", "promote", name, "1")
        deadline = time.monotonic() + 20
        for name in ("triage", "price"):
            while server.get(f"/v1/deployments/{name}").json().get("version") != 1:
                assert time.monotonic() < deadline, server.log()
                time.sleep(0.05)
        yield server
    finally:
        server.stop()


def _key(server: Server, name: str, role: str, tenant: str = "default") -> dict[str, str]:
    created = server.post("/v1/admin/keys", json={"name": name, "roles": [role], "tenant": tenant})
    assert created.status_code == 201, created.text
    return {"Authorization": f"Bearer {created.json()['key']}"}


def _predict(
    server: Server, name: str, inputs: list[Any], key: dict[str, str], **headers: str
) -> str:
    answer = server.post(
        f"/v1/deployments/{name}/predict", json={"inputs": inputs}, headers={**key, **headers}
    )
    assert answer.status_code == 200, answer.text
    return str(answer.json()["id"])


def _feedback(server: Server, key: dict[str, str], **body: Any) -> httpx.Response:
    return server.post("/v1/feedback", json=body, headers=key)


def _figures(server: Server, name: str, key: dict[str, str]) -> dict[tuple[Any, ...], Any]:
    got = server.get(f"/v1/admin/deployments/{name}/accuracy", headers=key)
    assert got.status_code == 200, got.text
    return {(q["window"], q["version"], q["segment"], q["value"]): q for q in got.json()["data"]}


def test_late_labels_give_exact_accuracy_per_segment(server: Server) -> None:
    app, ops = _key(server, "app", "client"), _key(server, "ops", "operator")
    outsider = _key(server, "rival", "client", tenant="acme")
    said = ["spam", "ham", "spam", "ham", "spam", "eggs"]
    countries = ["fr", "fr", "de", "de", "fr", "de"]
    truth = ["spam", "spam", "spam", "ham", "ham", "eggs"]
    pro = _predict(
        server,
        "triage",
        [{"says": s, "country": c} for s, c in zip(said[:4], countries[:4], strict=True)],
        app,
        **{"x-bastion-segment-plan": "pro"},
    )
    free = _predict(
        server,
        "triage",
        [{"says": s, "country": c} for s, c in zip(said[4:], countries[4:], strict=True)],
        app,
        **{"x-bastion-segment-plan": "free"},
    )
    ids = [(pro, i) for i in range(4)] + [(free, i) for i in range(2)]

    # refusals first: unknown id, another tenant's prediction, labels that do not fit
    unknown = _feedback(server, app, request_id="no-such-request", label="spam")
    assert unknown.status_code == 404 and unknown.json()["error"]["type"] == "not_found"
    foreign = _feedback(server, outsider, request_id=pro, label="spam")
    assert foreign.status_code == 404
    assert foreign.json()["error"]["message"] == unknown.json()["error"]["message"].replace(
        "no-such-request", pro
    )
    wrong_type = _feedback(server, app, request_id=pro, label=["spam"])
    assert wrong_type.status_code == 422 and wrong_type.json()["error"]["param"] == "label"
    assert "predicts class labels" in wrong_type.json()["error"]["message"]
    assert _feedback(server, app, request_id=pro, index=9, label="spam").status_code == 422
    assert _feedback(server, app, request_id=pro).status_code == 422
    assert server.get("/v1/admin/deployments/triage/accuracy", headers=app).status_code == 403

    for (rid, index), label in zip(ids, truth, strict=True):
        done = _feedback(server, app, request_id=rid, index=index, label=label)
        assert done.status_code == 201, done.text
        assert done.json()["task"] == "classification"
    # a second opinion on the 6th: the newest label counts (still "eggs": right)
    assert _feedback(server, app, request_id=free, index=1, label="eggs").status_code == 201

    figures = _figures(server, "triage", ops)
    overall = figures[("last_100", 1, "_all", "_all")]
    expected_f1 = f1_score(truth, said, average="macro")
    assert (overall["labelled"], overall["correct"]) == (6, 4)
    assert overall["accuracy"] == pytest.approx(4 / 6)
    assert overall["macro_f1"] == pytest.approx(expected_f1)
    assert figures[("24h", 1, "_all", "_all")]["accuracy"] == pytest.approx(4 / 6)
    by_country = {v: figures[("last_100", 1, "country", v)]["accuracy"] for v in ("fr", "de")}
    assert by_country == pytest.approx({"fr": 1 / 3, "de": 1.0})
    by_plan = {v: figures[("last_100", 1, "plan", v)]["accuracy"] for v in ("pro", "free")}
    assert by_plan == pytest.approx({"pro": 3 / 4, "free": 1 / 2})

    # an operator's override of the 2nd prediction ("ham", labelled "spam") says "ham": right
    override = server.post(
        f"/v1/admin/predictions/{pro}/override",
        json={"index": 1, "output": {"label": "ham"}, "reason": "the customer meant it"},
        headers=ops,
    )
    assert override.status_code == 200, override.text
    after = _figures(server, "triage", ops)[("last_100", 1, "_all", "_all")]
    assert (after["labelled"], after["correct"]) == (6, 5)

    # another tenant's labels stay out of this tenant's figures (but the admin sees all)
    theirs = _predict(server, "triage", [{"says": "ham", "country": "it"}], outsider)
    assert _feedback(server, outsider, request_id=theirs, label="spam").status_code == 201
    assert _figures(server, "triage", ops)[("last_100", 1, "_all", "_all")]["labelled"] == 6
    every = _figures(server, "triage", server.auth)
    assert every[("last_100", 1, "_all", "_all")]["labelled"] == 7

    exposition = server.get("/metrics").text
    line = (
        'bastion_model_quality{deployment="triage",metric="accuracy",segment="_all",'
        'value="_all",version="1",window="last_100"}'
    )
    assert f"{line} {5 / 7}" in exposition


def test_regression_labels_give_mae_and_scores_their_mean(server: Server) -> None:
    app = _key(server, "pricing", "client")
    rid = _predict(server, "price", [{"rooms": 1}, {"rooms": 2}, {"rooms": 3}], app)
    for index, label in enumerate([110.0, 180, 300]):
        assert _feedback(server, app, request_id=rid, index=index, label=label).status_code == 201
    bad = _feedback(server, app, request_id=rid, label="110")
    assert bad.status_code == 422 and "predicts numbers" in bad.json()["error"]["message"]
    scored = _feedback(server, app, request_id=rid, index=2, label=300, score=0.5)
    assert scored.json()["abs_error"] == 0.0
    q = _figures(server, "price", server.auth)[("last_100", 1, "_all", "_all")]
    assert (q["task"], q["labelled"], q["regressed"]) == ("regression", 3, 3)
    assert q["mae"] == pytest.approx(10.0) and q["mean_score"] == 0.5
    assert q["accuracy"] is None
    missing = server.get("/v1/admin/deployments/nothing-here/accuracy")
    assert missing.status_code == 404
