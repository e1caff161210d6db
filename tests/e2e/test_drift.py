"""Drift through a real server: the demo models' training profiles, unshifted traffic left
alone, shifted tabular and text traffic flagged by `bastion drift report` (table, HTML, PNG)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import pytest

from bastion.demo.intent import load_messages, training_data
from bastion.demo.tabular import sample_inputs
from tests.e2e.server import Server

pytestmark = pytest.mark.e2e

# Two windows (the open one and the one before) so that crossing an hour boundary mid-test
# leaves the rows of this test in the report.
WINDOWS = {"windows": 2}
TOPICS = ["bread", "pasta", "soup", "cake", "rice", "pie", "stew", "salad", "curry", "tart"]


def _send(server: Server, deployment: str, inputs: list[Any]) -> None:
    for start in range(0, len(inputs), 100):
        answer = server.post(
            f"/v1/deployments/{deployment}/predict", json={"inputs": inputs[start : start + 100]}
        )
        assert answer.status_code == 200, answer.text


def _report(server: Server, out: Path, deployment: str) -> tuple[int, str]:
    done = server.cli(
        "drift",
        "report",
        deployment,
        "--windows",
        "2",
        "--url",
        server.url,
        "--out",
        str(out),
        "--fail-on-drift",
        check=False,
    )
    assert done.returncode in (0, 3), done.stdout + done.stderr
    return done.returncode, done.stdout


def test_shifted_tabular_traffic_is_flagged_and_unshifted_is_not(
    demo_server: Server, tmp_path: Path
) -> None:
    rows = sample_inputs(300)
    _send(demo_server, "breast-cancer", rows)
    code, text = _report(demo_server, tmp_path / "calm", "breast-cancer")
    assert code == 0 and "breast-cancer v1: OK" in text, text
    assert "reference: training profile of 426 rows" in text
    assert (tmp_path / "calm" / "drift.html").read_text().startswith("<!doctype html>")

    shifted = [
        {k: v * 1.4 if k.startswith("worst_") else v for k, v in row.items()}
        for row in sample_inputs(400)
    ]
    _send(demo_server, "breast-cancer", shifted)
    code, text = _report(demo_server, tmp_path / "shifted", "breast-cancer")
    assert code == 3 and "breast-cancer v1: DRIFT" in text, text
    drifting = [line.split()[0] for line in text.splitlines() if " drift " in line]
    assert "worst_area" in drifting and not any(n.startswith("mean_") for n in drifting)
    html = (tmp_path / "shifted" / "drift.html").read_text()
    assert "worst_area" in html and 'class="drift"' in html
    png = tmp_path / "shifted" / "drift.png"
    assert png.exists() == (importlib.util.find_spec("matplotlib") is not None)

    api = demo_server.get("/v1/admin/deployments/breast-cancer/drift", params=WINDOWS).json()
    assert api["status"] == "drift" and "worst_area" in [
        f["name"] for f in api["features"] if f["status"] == "drift"
    ]
    assert api["reference"]["source"] == "training" and api["reference"]["rows"] == 426
    page = demo_server.get(
        "/v1/admin/deployments/breast-cancer/drift", params={**WINDOWS, "format": "html"}
    )
    assert page.headers["content-type"].startswith("text/html")

    # an operator freezes this traffic as the reference: from now on it is the norm
    created = demo_server.post(
        "/v1/admin/keys", json={"name": "drift-ops", "roles": ["operator"], "tenant": "default"}
    )
    ops = {"Authorization": f"Bearer {created.json()['key']}"}
    path = "/v1/admin/deployments/breast-cancer/drift/baseline"
    assert demo_server.post(path, json={"rows": 5}, headers=ops).status_code == 422
    frozen = demo_server.post(path, json={}, headers=ops)
    assert frozen.status_code == 201, frozen.text
    assert frozen.json()["source"] == "window" and frozen.json()["rows"] >= 700
    now = demo_server.get("/v1/admin/deployments/breast-cancer/drift", headers=ops).json()
    assert now["reference"]["source"] == "baseline" and now["rows"] == 0


def test_off_topic_messages_move_the_embeddings(demo_server: Server, tmp_path: Path) -> None:
    texts, _ = load_messages(training_data())
    _send(demo_server, "support-intent", texts)
    calm = demo_server.get("/v1/admin/deployments/support-intent/drift", params=WINDOWS).json()
    assert calm["status"] == "ok" and calm["embedding"]["status"] == "ok", calm
    recipes = [
        f"Preheat the oven and bake the {TOPICS[i % 10]} for {20 + i} minutes, then let it rest."
        for i in range(300)
    ]
    _send(demo_server, "support-intent", recipes)
    code, text = _report(demo_server, tmp_path, "support-intent")
    assert code == 3 and "__embedding__" in text
    moved = demo_server.get("/v1/admin/deployments/support-intent/drift", params=WINDOWS).json()
    assert moved["embedding"]["status"] == "drift", moved["embedding"]


def test_a_deployment_without_reference_says_how_to_get_one(demo_server: Server) -> None:
    missing = demo_server.get("/v1/admin/deployments/minilm/drift")
    assert missing.status_code == 404
    assert "drift/baseline" in missing.json()["error"]["message"]
