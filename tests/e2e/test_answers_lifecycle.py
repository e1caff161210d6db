"""What clients hear when a model cannot serve and when the server stops, through a real
server: a model_not_ready answer carries no server path, no operator instructions and no
Retry-After for a failure that will not clear by itself; a re-registered artifact is reloaded
without a promote; at shutdown readiness turns 503 first, and a request cut by the graceful
timeout gets a JSON 503 that the audit records as ``shutting_down``."""

from __future__ import annotations

import concurrent.futures
import json
import signal
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.server import Server, make_server

pytestmark = pytest.mark.e2e

MODEL_SOURCE = "def predict(inputs):\n    return [{'output': 'ok'} for _ in inputs]\n"


def slow(inputs: list[Any]) -> list[Any]:
    """Marks that it started (a file), then sleeps as long as asked."""
    for item in inputs:
        Path(item["mark"]).touch()
        time.sleep(float(item["sleep"]))
    return ["done" for _ in inputs]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    root = tmp_path_factory.mktemp("lifecycle")
    config = root / "bastion.yaml"
    config.write_text(
        json.dumps({"demo": False, "server": {"graceful_timeout_s": 1, "drain_delay_s": 3}})
    )
    server = make_server(root / "data", BASTION_CONFIG=str(config))
    server.start()
    try:
        yield server
    finally:
        server.stop()


def _serving(server: Server, name: str, version: int) -> None:
    deadline = time.monotonic() + 15
    while server.get(f"/v1/deployments/{name}").json().get("version") != version:
        assert time.monotonic() < deadline, server.log()
        time.sleep(0.1)


def test_not_ready_hides_server_paths_and_a_reregistered_artifact_is_reloaded(
    server: Server, tmp_path: Path
) -> None:
    source = tmp_path / "model.py"
    source.write_text(MODEL_SOURCE)
    server.cli("models", "register", "filemodel", str(source), "--entry-point", "predict")
    server.cli("models", "promote", "filemodel", "1")
    _serving(server, "filemodel", 1)
    predict = "/v1/deployments/filemodel/predict"
    assert server.post(predict, json={"input": "x"}).status_code == 200

    [stored] = [p for p in (server.data_dir / "artifacts" / "sha256").rglob("*") if p.is_file()]
    stored.chmod(0o644)
    stored.write_text(MODEL_SOURCE + "# altered\n")
    server.stop()
    server.start()

    refused = server.post(predict, json={"input": "x"})
    assert refused.status_code == 503, refused.text
    assert refused.json()["error"]["type"] == "model_not_ready"
    assert str(server.data_dir.resolve()) not in refused.text  # today: the artifact's path
    assert "bastion models" not in refused.text and "re-register" not in refused.text
    assert "retry-after" not in refused.headers  # a damaged artifact does not heal by waiting

    server.cli("models", "register", "filemodel", str(source), "--entry-point", "predict")
    deadline = time.monotonic() + 15
    while (again := server.post(predict, json={"input": "x"})).status_code != 200:
        assert time.monotonic() < deadline, again.text  # today: 503 until a promote
        time.sleep(0.2)
    assert again.headers["x-bastion-model-version"] == "1"


def test_shutdown_turns_readiness_off_first_and_cuts_with_a_json_503(
    server: Server, tmp_path: Path
) -> None:
    server.cli(
        "models", "register", "slowfn", "--entry-point", "tests.e2e.test_answers_lifecycle:slow"
    )
    server.cli("models", "promote", "slowfn", "1")
    _serving(server, "slowfn", 1)
    mark = tmp_path / "started"
    body = {"input": {"sleep": 10, "mark": str(mark)}}
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        running = pool.submit(
            httpx.post,
            server.url + "/v1/deployments/slowfn/predict",
            json=body,
            headers=server.auth,
            timeout=60,
        )
        deadline = time.monotonic() + 15
        while not mark.exists():
            assert time.monotonic() < deadline, server.log()
            time.sleep(0.05)
        assert server.proc is not None
        server.proc.send_signal(signal.SIGTERM)
        ready = httpx.get(server.url + "/readyz", timeout=5)  # the listener is still open
        assert ready.status_code == 503 and ready.json()["draining"] is True
        assert httpx.get(server.url + "/healthz", timeout=5).status_code == 200
        cut = running.result(timeout=60)
    assert server.proc.wait(30) is not None
    assert cut.status_code == 503, cut.text  # today: a bare-text 500
    assert cut.json()["error"]["type"] == "shutting_down"
    request_id = cut.headers["x-request-id"]
    with sqlite3.connect(server.data_dir / "bastion.db") as db:
        rows = db.execute(
            "select status, error_type from audit_records where request_id = ?", (request_id,)
        ).fetchall()
    assert rows == [("error", "shutting_down")]
