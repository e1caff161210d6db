"""One real server for the CLI suite (started once), a webhook receiver, and helpers.

Every `bastion` command here runs as a subprocess from another working directory, as a
client of that server (``BASTION_URL`` / ``BASTION_KEY``), exactly as a user would run it.
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.e2e.server import Server, make_server

EVAL_MODELS = "tests.evaluation.models"
ROLLOUT_MODELS = "tests.routing.rollouts.models"
K1 = "k1:" + base64.b64encode(b"\x01" * 32).decode()
UPLOAD_CAP = 4 * 1_048_576  # limits.max_admin_body_bytes of the suite's server


class Receiver:
    """Webhook bodies received, by path; ``/ok`` answers 200 and anything else 404."""

    def __init__(self) -> None:
        self.got: list[tuple[str, dict[str, Any]]] = []
        handler = self._handler()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        got = self.got

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers["content-length"])
                got.append((self.path, json.loads(self.rfile.read(length))))
                self.send_response(200 if self.path == "/ok" else 404)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                return None

        return Handler


def suite_config(receiver_url: str) -> dict[str, Any]:
    gate = {"thresholds": [{"set": "golden", "metric": "accuracy", "min": 0.9}], "approvals": 1}
    arms = [{"name": "a", "version": 1}, {"name": "b", "version": 2}]
    return {
        "deployments": [
            {"name": "d", "model": "m"},
            {"name": "e", "model": "m"},
            {"name": "abx", "model": "abx"},
        ],
        "evaluation": {"gates": {"g": {"production": gate}}},
        "rollouts": {
            "tick_s": 0.05,
            "persist_interval_s": 0.1,
            "deployments": [
                {"deployment": "d", "canary": {"steps": [10, 100], "min_requests": 3}},
                {"deployment": "e", "ab": {"arms": arms}},
                {"deployment": "abx", "ab": {"arms": arms, "min_samples": 2}},
            ],
        },
        "alerts": {
            "webhooks": [
                {"name": "ok", "url": f"{receiver_url}/ok"},
                {"name": "slack", "url": f"{receiver_url}/ok", "format": "slack"},
                {"name": "gone", "url": f"{receiver_url}/gone"},
            ]
        },
    }


@pytest.fixture(scope="session")
def receiver() -> Iterator[Receiver]:
    found = Receiver()
    thread = threading.Thread(target=found.httpd.serve_forever, daemon=True)
    thread.start()
    yield found
    found.httpd.shutdown()
    found.httpd.server_close()


@pytest.fixture(scope="session")
def cli_server(tmp_path_factory: pytest.TempPathFactory, receiver: Receiver) -> Iterator[Server]:
    """The suite's server (SQLite, no demo models), started once for every CLI test."""
    root = tmp_path_factory.mktemp("cli-server")
    config = root / "bastion.yaml"
    config.write_text(yaml.safe_dump(suite_config(receiver.url)))
    server = make_server(
        root / "data",
        BASTION_DEMO="false",
        BASTION_CONFIG=str(config),
        BASTION_ENCRYPTION_KEYS=K1,
        BASTION_LIMITS__MAX_ADMIN_BODY_BYTES=str(UPLOAD_CAP),
    )
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def elsewhere(tmp_path: Path) -> Path:
    """A working directory with nothing of Bastion's in it."""
    where = tmp_path / "elsewhere"
    where.mkdir()
    return where


def ok(server: Server, *args: str, **kw: Any) -> str:
    """`bastion ARGS` against ``server``; its stdout (fails the test on a non-zero exit)."""
    return server.cli(*args, **kw).stdout


def refused(server: Server, *args: str, **kw: Any) -> str:
    """`bastion ARGS` that must exit 1; its stdout and stderr together."""
    done = server.cli(*args, check=False, **kw)
    assert done.returncode == 1, done.stdout + done.stderr
    return done.stdout + done.stderr


def make_key(server: Server, name: str, *roles: str) -> str:
    made = server.post("/v1/admin/keys", json={"name": name, "roles": list(roles)})
    assert made.status_code == 201, made.text
    return str(made.json()["key"])


def admin_actions(server: Server, *, refusals: bool = False) -> list[dict[str, Any]]:
    """The admin records of the server's audit log, oldest first: the changes made, or with
    ``refusals`` the refused attempts (evidence, recorded with status ``refused``)."""
    found: list[dict[str, Any]] = []
    after = 1
    while True:
        page = server.get("/v1/admin/audit", params={"kind": "admin", "from_seq": after}).json()
        found += [r for r in page["data"] if (r.get("status") == "refused") == refusals]
        if page["next_from_seq"] is None:
            return found
        after = page["next_from_seq"]
