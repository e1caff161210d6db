"""Readiness, graceful shutdown, several workers, and two servers side by side."""

from __future__ import annotations

import concurrent.futures
import signal
import time
from pathlib import Path

import httpx
import pytest

from tests.e2e.server import Server, make_server

pytestmark = pytest.mark.e2e


def _register_fake(server: Server, name: str, entry_point: str) -> None:
    server.cli("models", "register", name, "--entry-point", entry_point)
    server.cli("models", "promote", name, "1")


def test_graceful_shutdown_finishes_in_flight_requests(tmp_path: Path) -> None:
    server = make_server(tmp_path / "data", BASTION_DEMO="false", BASTION_TEST_SLOW_S="1.5")
    server.start()
    try:
        _register_fake(server, "slow", "tests.fakes:slow")
        deadline = time.monotonic() + 5
        while server.get("/v1/deployments/slow").status_code != 200:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        with concurrent.futures.ThreadPoolExecutor(2) as pool:
            fut = pool.submit(server.post, "/v1/deployments/slow/predict", json={"input": 1})
            time.sleep(0.5)
            assert server.proc is not None
            server.proc.send_signal(signal.SIGTERM)
            response = fut.result(timeout=30)
        assert response.status_code == 200, response.text
        assert response.json()["output"] == {"done": True}
        assert server.proc.wait(30) in (
            0,
            -signal.SIGTERM,
        )  # uvicorn re-raises the signal it handled
        with pytest.raises(httpx.HTTPError):
            httpx.get(server.url + "/healthz", timeout=1)
    finally:
        server.stop()


def test_several_workers_and_two_servers_side_by_side(tmp_path: Path) -> None:
    a = make_server(tmp_path / "a", BASTION_DEMO="false")
    b = make_server(tmp_path / "b", BASTION_DEMO="false")
    a.start("--workers", "2")
    b.start()
    try:
        _register_fake(a, "pid", "tests.fakes:pid")
        _register_fake(b, "echo", "tests.fakes:echo")
        pids: set[int] = set()
        deadline = time.monotonic() + 20
        while len(pids) < 2 and time.monotonic() < deadline:
            with httpx.Client(headers=a.auth) as client:  # a new connection each round
                r = client.post(a.url + "/v1/deployments/pid/predict", json={"input": 0})
            if r.status_code == 200:
                pids.add(r.json()["output"]["pid"])
        assert len(pids) == 2, "two workers should both serve"
        r = b.post("/v1/deployments/echo/predict", json={"input": "hi"})
        assert r.json()["output"] == {"echo": "hi"}
        assert a.get("/v1/deployments/echo").status_code == 404  # separate data dirs
    finally:
        a.stop()
        b.stop()


def test_model_errors_are_clean_500s_and_the_server_survives(tmp_path: Path) -> None:
    server = make_server(tmp_path / "data", BASTION_DEMO="false").start()
    try:
        _register_fake(server, "broken", "tests.fakes:broken")
        _register_fake(server, "wrong-count", "tests.fakes:wrong_count")
        deadline = time.monotonic() + 5
        while server.get("/v1/deployments/wrong-count").status_code != 200:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        r = server.post("/v1/deployments/broken/predict", json={"input": 1})
        assert r.status_code >= 500 and "error" in r.json()
        assert "the model crashed" not in r.text or r.json()["error"]["type"] != "internal_error"
        r = server.post("/v1/deployments/wrong-count/predict", json={"input": 1})
        assert r.status_code == 500 and r.json()["error"]["type"] == "model_output_invalid"
        assert server.get("/readyz").status_code == 200
    finally:
        server.stop()


def test_bad_config_stops_at_start_with_a_named_key(tmp_path: Path) -> None:
    cfg = tmp_path / "bastion.yaml"
    cfg.write_text("server:\n  prot: 1\n")
    server = make_server(tmp_path / "data")
    done = server.cli("serve", "--config", str(cfg), check=False)
    assert done.returncode == 2
    assert "server.prot" in done.stdout + done.stderr
