"""Drift windows survive a restart of a real server, and two replicas on one PostgreSQL keep
their own windows (nothing counted twice)."""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Any

import pytest

from bastion.demo.tabular import sample_inputs
from tests.e2e.server import Server, make_server
from tests.e2e.test_postgres import pg_url  # noqa: F401  (a fresh PostgreSQL database)

pytestmark = pytest.mark.e2e

DRIFT = "/v1/admin/deployments/breast-cancer/drift"
WINDOWS = {"windows": 2}  # the open window and the one before: an hour boundary may pass
ENV = {"BASTION_MONITORING__DRIFT__PERSIST_INTERVAL_S": "1"}


def _shifted(n: int) -> list[dict[str, Any]]:
    return [
        {k: v * 1.4 if k.startswith("worst_") else v for k, v in row.items()}
        for row in sample_inputs(n)
    ]


def _send(server: Server, inputs: list[dict[str, Any]]) -> None:
    for start in range(0, len(inputs), 100):
        answer = server.post(
            "/v1/deployments/breast-cancer/predict", json={"inputs": inputs[start : start + 100]}
        )
        assert answer.status_code == 200, answer.text


def _report(server: Server) -> dict[str, Any]:
    answer = server.get(DRIFT, params=WINDOWS)
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def _fail_on_drift(server: Server, out: Path) -> int:
    done = server.cli(
        "drift",
        "report",
        "breast-cancer",
        "--windows",
        "2",
        "--out",
        str(out),
        "--fail-on-drift",
        check=False,
    )
    assert done.returncode in (0, 3), done.stdout + done.stderr
    return done.returncode


def _drifted(report: dict[str, Any]) -> set[str]:
    return {f["name"] for f in report["features"] if f["status"] == "drift"}


def test_a_restart_keeps_the_open_window_and_its_drift(
    pg_url: str,  # noqa: F811
    tmp_path: Path,
) -> None:
    server = make_server(tmp_path / "data", database_url=pg_url, **ENV)
    server.start()
    try:
        _send(server, _shifted(400))
        before = _report(server)
        assert before["status"] == "drift" and before["rows"] == 400, before
        assert _fail_on_drift(server, tmp_path / "before") == 3

        # SIGTERM: a graceful shutdown saves the windows (uvicorn re-raises the signal it handled)
        assert server.stop() in (0, -signal.SIGTERM)
        server.start()

        after = _report(server)
        assert after["rows"] == 400 and after["status"] == "drift", after
        assert _drifted(after) == _drifted(before) and "worst_area" in _drifted(after)
        assert after == _report(server)  # reading again changes nothing
        assert _fail_on_drift(server, tmp_path / "after") == 3
        assert _report(server) == after

        # the resumed window goes on counting: new rows add to it
        _send(server, sample_inputs(50))
        assert _report(server)["rows"] == 450
    finally:
        server.stop()


def test_two_replicas_keep_their_own_windows_across_a_restart(
    pg_url: str,  # noqa: F811
    tmp_path: Path,
) -> None:
    one = make_server(tmp_path / "one", database_url=pg_url, **ENV)
    two = make_server(tmp_path / "two", database_url=pg_url, **ENV)
    two.admin_key = one.admin_key
    two.env["BASTION_ADMIN_KEY"] = one.admin_key
    one.start()  # migrates, makes the admin key and the demo models; then the other
    two.start()
    try:
        _send(one, _shifted(300))
        _send(two, sample_inputs(200))
        assert _report(one)["rows"] == 300 and _report(two)["rows"] == 200

        assert one.stop() in (0, -signal.SIGTERM)
        assert _report(two)["rows"] == 200  # the running replica leaves them for the restart
        one.start()
        resumed = _report(one)
        assert resumed["rows"] == 300 and resumed["status"] == "drift", resumed
        assert _report(two)["rows"] == 200  # nothing counted twice
        assert _report(two)["status"] == "ok"
    finally:
        one.stop()
        two.stop()
