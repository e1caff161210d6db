"""`bastion serve --workers 2` drains as one server: after SIGTERM every worker's readiness
answers 503 for the whole drain delay while all of them keep serving, then all stop. A
supervisor killed outright (SIGKILL) takes its workers with it."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import httpx
import pytest

from tests.e2e.server import Server, make_server
from tests.support import process_alive

pytestmark = pytest.mark.e2e


def _pid(server: Server) -> int | None:
    with httpx.Client(headers=server.auth, timeout=10) as client:  # a new connection each time
        r = client.post(server.url + "/v1/deployments/pid/predict", json={"input": 0})
    return int(r.json()["output"]["pid"]) if r.status_code == 200 else None


def _both_workers(server: Server) -> set[int]:
    """Register the pid model and return the pids of the two workers once both answered."""
    server.cli("models", "register", "pid", "--entry-point", "tests.fakes:pid")
    server.cli("models", "promote", "pid", "1")
    workers: set[int] = set()
    deadline = time.monotonic() + 30
    while len(workers) < 2 and time.monotonic() < deadline:
        found = _pid(server)
        if found is not None:
            workers.add(found)
    assert len(workers) == 2, "both workers should serve before the test"
    return workers


def _ready(server: Server) -> httpx.Response:
    with httpx.Client(timeout=10) as client:
        return client.get(server.url + "/readyz")


def test_every_worker_is_not_ready_during_the_drain_delay(tmp_path: Path) -> None:
    server = make_server(tmp_path / "data", BASTION_DEMO="false", BASTION_SERVER__DRAIN_DELAY_S="6")
    server.start("--workers", "2")
    try:
        workers = _both_workers(server)
        assert _ready(server).status_code == 200

        assert server.proc is not None
        server.proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 3
        while _ready(server).status_code == 200:  # the signal is on its way
            assert time.monotonic() < deadline, "readiness never turned 503"
        answered: set[int] = set()
        probes = []
        until = time.monotonic() + 3  # well inside the 6 s delay
        while (answered != workers or len(probes) < 10) and time.monotonic() < until:
            probes.append(_ready(server))
            found = _pid(server)
            if found is not None:
                answered.add(found)
        # whichever worker answered, readiness said not-ready, and both still served
        assert probes and all(p.status_code == 503 for p in probes)
        assert all(p.json() == {"ready": False, "draining": True} for p in probes)
        assert answered == workers
        assert server.proc.wait(60) == 0  # then every worker stopped, and the supervisor
        with pytest.raises(httpx.HTTPError):
            _ready(server)
        assert list((server.data_dir / "run").glob("drain-*")) == []  # no marker left behind
    finally:
        server.stop()


def test_workers_end_when_the_supervisor_is_killed(tmp_path: Path) -> None:
    server = make_server(tmp_path / "data", BASTION_DEMO="false")
    server.start("--workers", "2")
    workers: set[int] = set()
    try:
        workers |= _both_workers(server)
        assert server.proc is not None
        server.proc.kill()  # SIGKILL: the supervisor forwards nothing
        server.proc.wait(10)
        deadline = time.monotonic() + 60
        while any(process_alive(pid) for pid in workers) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not any(process_alive(pid) for pid in workers), "orphaned workers still run"
        with pytest.raises(httpx.HTTPError):
            _ready(server)  # nobody listens on the port any more
    finally:
        server.stop()
        for pid in workers:
            if process_alive(pid):
                os.kill(pid, signal.SIGKILL)
