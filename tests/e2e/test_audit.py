"""The audit log through real servers: admin API, encryption, and kill -9 under load."""

from __future__ import annotations

import base64
import os
import signal
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import orjson
import pytest

from tests.e2e.server import Server, make_server
from tests.e2e.test_postgres import pg_url  # noqa: F401  (a fresh PostgreSQL database)

pytestmark = pytest.mark.e2e

KEYS = "k1:" + base64.b64encode(b"\x11" * 32).decode()
MODEL = (
    "def predict(inputs):\n"
    "    return [{'output': {'echo': x}, 'confidence': 1.0} for x in inputs]\n"
)


def _register_echo(server: Server, version: int) -> None:
    source = base64.b64encode(MODEL.encode()).decode()
    body = {
        "flavor": "python",
        "artifact_base64": source,
        "artifact_name": "echo.py",
        "params": {"entry_point": "predict"},
    }
    assert server.post("/v1/admin/models/echo/versions", json=body).status_code == 201
    promoted = server.post("/v1/admin/models/echo/promote", json={"version": version})
    assert promoted.status_code == 200, promoted.text


def _echo_server(tmp_path: Path, **env: str) -> Server:
    """A started server without the demo models, serving one tiny Python model, ``echo``."""
    server = make_server(tmp_path / "data", BASTION_DEMO="false", **env).start()
    _register_echo(server, 1)
    return server


def _export(server: Server, *flags: str) -> list[dict[str, object]]:
    out = server.cli("audit", "export", *flags).stdout
    return [orjson.loads(line) for line in out.splitlines() if line.strip()]


def test_interactions_and_admin_changes_are_audited(tmp_path: Path) -> None:
    server = _echo_server(tmp_path, BASTION_ENCRYPTION_KEYS=KEYS)
    try:
        headers = {**server.auth, "x-request-id": "audit-1"}
        ok = server.post("/v1/deployments/echo/predict", json={"input": "hi"}, headers=headers)
        assert ok.status_code == 200, ok.text
        missing = server.post("/v1/deployments/nope/predict", json={"input": 1})
        assert missing.status_code == 404
        created = server.post("/v1/admin/keys", json={"name": "app", "roles": ["client"]})
        assert created.status_code == 201, created.text
        client = {"Authorization": f"Bearer {created.json()['key']}"}
        _register_echo(server, 2)
        assert server.post("/v1/admin/models/echo/rollback", json={}).status_code == 200

        query = {"request_id": "audit-1", "payloads": "true"}
        listed = server.get("/v1/admin/audit", params=query).json()["data"]
        [record] = listed
        assert (record["kind"], record["action"], record["deployment"]) == (
            "interaction",
            "predict",
            "echo",
        )
        assert record["actor_name"] == "admin (BASTION_ADMIN_KEY)" and record["version"] == 1
        assert record["status"] == "ok" and record["payload_key"] == "k1"
        assert "hi" not in base64.b64decode(record["payload"]).decode("latin-1")
        admin = server.get("/v1/admin/audit", params={"kind": "admin"}).json()["data"]
        assert [r["action"] for r in admin] == [
            "model.registered",
            "model.promoted",
            "key.created",
            "model.registered",
            "model.promoted",
            "model.rolled_back",
        ]
        assert {r["actor_name"] for r in admin} == {"admin (BASTION_ADMIN_KEY)"}
        assert all("payload" not in r for r in admin)  # only with payloads=true
        assert admin[0]["target"] == "echo@1" and admin[2]["details"]["roles"] == ["client"]
        assert admin[-1]["details"]["previous_version"] == 2
        errors = server.get("/v1/admin/audit", params={"deployment": "nope"}).json()["data"]
        assert [(r["status"], r["error_type"]) for r in errors] == [("error", "not_found")]
        assert server.get("/v1/admin/audit", headers=client).status_code == 403

        verified = server.post("/v1/admin/audit/verify", json={"payloads": True}).json()
        assert verified["ok"] and verified["payloads_checked"] >= 1, verified
        bad = server.post("/v1/admin/audit/verify", json={"anchor": "x"})
        assert bad.status_code == 422 and bad.json()["error"]["param"] == "anchor"
        assert "ok" in server.cli("audit", "verify", "--payloads").stdout
    finally:
        server.stop()


def test_minted_request_ids_are_kept_and_client_ones_scrubbed(tmp_path: Path) -> None:
    """An id Bastion minted is stored verbatim (it is not searched for PII); an
    ``x-request-id`` the client sent is client text: one carrying PII is replaced by a
    minted id at the edge, so it reaches no table; a clean one is kept for correlation."""
    server = _echo_server(tmp_path)
    try:
        url = "/v1/deployments/echo/predict"
        minted = server.post(url, json={"input": "hi"})
        assert minted.status_code == 200, minted.text
        rid = minted.headers["x-request-id"]
        carded = {**server.auth, "x-request-id": "4111-1111-1111-1111"}
        sent = server.post(url, json={"input": "hi"}, headers=carded)
        replaced = sent.headers["x-request-id"]
        assert sent.status_code == 200 and replaced != "4111-1111-1111-1111"
        assert len(replaced) == 24 and int(replaced, 16) >= 0  # minted in its place
        ordered = {**server.auth, "x-request-id": "order-7"}
        clean = server.post(url, json={"input": "hi"}, headers=ordered)
        assert clean.headers["x-request-id"] == "order-7"  # a clean client id is kept

        records = server.get("/v1/admin/audit", params={"deployment": "echo"}).json()["data"]
        stored = [r["request_id"] for r in records if r["kind"] == "interaction"]
        assert sorted(stored) == sorted([rid, replaced, "order-7"])
        exported = server.cli("audit", "export").stdout
        assert "4111-1111-1111-1111" not in exported and rid in exported
        for path in (tmp_path / "data").rglob("*"):  # no table, file or log line holds it
            if path.is_file():
                assert b"4111-1111-1111-1111" not in path.read_bytes(), path
        assert server.post("/v1/admin/audit/verify", json={}).json()["ok"]
    finally:
        server.stop()


def test_a_bad_encryption_key_stops_the_start_with_a_clear_error(tmp_path: Path) -> None:
    server = make_server(
        tmp_path / "data", BASTION_DEMO="false", BASTION_ENCRYPTION_KEYS="k1:c2hvcnQ="
    )
    with pytest.raises(RuntimeError) as failed:
        server.start(timeout=60)
    assert "encryption key 'k1' is 5 bytes" in str(failed.value)
    assert "Traceback" not in str(failed.value)


def _children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry))
    return found


def _kill_under_load(server: Server, answered_before_kill: int = 300) -> set[str]:
    """Drive concurrent predicts, SIGKILL every server process mid-load, return answered ids."""
    assert server.proc is not None
    answered: set[str] = set()
    lock, enough, killed = threading.Lock(), threading.Event(), threading.Event()
    url = f"{server.url}/v1/deployments/echo/predict"

    def drive(n: int) -> None:
        with httpx.Client(timeout=10) as client:
            i = 0
            while not killed.is_set():
                rid = f"w{n}-{i}"
                i += 1
                try:
                    r = client.post(
                        url, json={"input": i}, headers={**server.auth, "x-request-id": rid}
                    )
                except httpx.HTTPError:
                    continue
                if r.status_code == 200:
                    with lock:
                        answered.add(rid)
                        if len(answered) >= answered_before_kill:
                            enough.set()

    threads = [threading.Thread(target=drive, args=(n,), daemon=True) for n in range(12)]
    for t in threads:
        t.start()
    assert enough.wait(120), f"the server answered only {len(answered)} requests"
    for pid in [*_children(server.proc.pid), server.proc.pid]:  # workers, then the parent
        os.kill(pid, signal.SIGKILL)
    killed.set()
    server.proc.wait(10)
    for t in threads:
        t.join(15)
    return answered


def _assert_everything_answered_is_logged(server: Server, answered: set[str]) -> None:
    # the server is down: the log is read from its database (--offline)
    verified = server.cli("audit", "verify", "--offline", check=False)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    logged = {r["request_id"] for r in _export(server, "--offline")}
    missing = answered - logged
    assert not missing, f"{len(missing)} answered requests are not in the audit log"


def test_kill_9_under_load_loses_no_answered_request(tmp_path: Path) -> None:
    server = _echo_server(tmp_path)
    try:
        answered = _kill_under_load(server)
    finally:
        server.stop()
    _assert_everything_answered_is_logged(server, answered)


@pytest.fixture
def pg_server(pg_url: str, tmp_path: Path) -> Iterator[Server]:  # noqa: F811
    server = make_server(
        tmp_path / "data", database_url=pg_url, BASTION_DEMO="false", BASTION_WORKERS="2"
    )
    model = tmp_path / "echo.py"
    model.write_text(MODEL)
    server.start()
    try:
        server.cli("models", "register", "echo", str(model), "--entry-point", "predict")
        server.cli("models", "promote", "echo", "1")
        yield server
    finally:
        server.stop()


@pytest.mark.postgres
def test_kill_9_two_workers_on_postgres_keep_one_chain(pg_server: Server) -> None:
    answered = _kill_under_load(pg_server)
    _assert_everything_answered_is_logged(pg_server, answered)
