"""`bastion check`, `bench`, `backup`/`restore` and the capacity route through a real server.

One server walks the readiness path: each item starts failing or warning, the operator does
what its fix says (retire the first-start key, promote a second version, load-test, back up,
restore into a scratch place), and the item passes — verified by the server, not assumed.
"""

from __future__ import annotations

import json
import subprocess
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import httpx
import pytest
import yaml

from bastion.readiness import Context, Refused, run_checks, score
from bastion.readiness.checks import ALL_CHECKS
from bastion.readiness.report import as_dict
from bastion.security.encryption import generate_key
from tests.e2e.server import BASTION, ROOT, Server, make_server
from tests.e2e.test_registry_live import _new_version, _served_version

pytestmark = pytest.mark.e2e

DEMO = ("breast-cancer", "support-intent", "minilm")


@pytest.fixture(scope="module")
def receiver() -> Iterator[tuple[list[dict[str, Any]], str]]:
    posts: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            posts.append(json.loads(self.rfile.read(int(self.headers["content-length"]))))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            return None

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield posts, f"http://127.0.0.1:{httpd.server_address[1]}/hook"
    httpd.shutdown()


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory, receiver: tuple[list[dict[str, Any]], str]
) -> Iterator[Server]:
    root = tmp_path_factory.mktemp("check")
    config = {
        "alerts": {
            "runbook_base_url": str(ROOT / "docs" / "runbooks"),
            "rules": [
                {"name": "latency-slo", "kind": "latency_p95", "threshold": 500},
                {"name": "error-rate", "kind": "error_rate", "threshold": 0.05},
                {"name": "budget-80", "kind": "budget", "threshold": 0.8},
            ],
            "webhooks": [{"name": "oncall", "url": receiver[1]}],
        },
        "operations": {"readiness": {"peak_rps": dict.fromkeys(DEMO, 5.0)}},
        "review": {"policies": [{"deployment": "support-intent", "client_may_request": True}]},
    }
    path = root / "bastion.yaml"
    path.write_text(yaml.safe_dump(config))
    srv = make_server(
        root / "data",
        BASTION_CONFIG=str(path),
        BASTION_ENCRYPTION_KEYS=generate_key("k1"),
    ).start()
    yield srv
    srv.stop()


class _HttpApi:
    """The checks' Api over httpx, in this process (the CLI pays its start-up per call)."""

    def __init__(self, server: Server) -> None:
        self.server = server

    @property
    def base_url(self) -> str:
        return self.server.url

    def _answer(self, response: httpx.Response) -> Any:
        if response.status_code >= 400:
            error = response.json()["error"]
            raise Refused(response.status_code, error["type"], error["message"])
        return response.json()

    def get(self, path: str, **params: Any) -> Any:
        return self._answer(self.server.get(path, params=params))

    def post(self, path: str, body: Any = None, **params: Any) -> Any:
        return self._answer(self.server.post(path, json=body, params=params))


def _items(server: Server) -> dict[str, dict[str, Any]]:
    """The same checks as `bastion check`, run here against the real server."""
    api = _HttpApi(server)
    ctx = Context(api=api, facts=api.get("/v1/admin/readiness/facts"), now=datetime.now(UTC))
    results = run_checks(ALL_CHECKS, ctx)
    return {item["id"]: item for item in as_dict(results, score(results), api.base_url)["items"]}


def _check(server: Server, *extra: str) -> tuple[int, dict[str, dict[str, Any]]]:
    done = server.cli(
        "check", "--url", server.url, "--key", server.admin_key, "--format", "json", *extra,
        check=False,
    )  # fmt: skip
    report = json.loads(done.stdout)
    return done.returncode, {item["id"]: item for item in report["items"]}


def test_check_verifies_each_item_and_passes_it_once_its_fix_is_done(
    server: Server, receiver: tuple[list[dict[str, Any]], str], tmp_path: Path
) -> None:
    code, items = _check(server)
    assert code == 1  # items fail: a CI or deploy gate stops here
    assert items["rollback-drill"]["status"] == "warn"  # one version only: nowhere to go
    assert items["load-test"]["status"] == "fail"
    assert items["restore-tested"]["status"] == "fail"
    assert items["backups"]["status"] == "fail"
    assert items["encryption-keys"]["status"] == "pass"
    assert items["runbooks"]["status"] == "pass"
    assert items["alert-rules"]["status"] == "pass"
    assert items["budget-alerts"]["status"] == "skip"  # no LLM groups, no budgets
    assert items["alert-delivery"]["status"] == "pass"
    assert items["review-path"]["status"] == "fail"  # a policy, but nobody ever decided
    posts, _ = receiver
    assert any("Test notification" in p["alert"]["summary"] for p in posts)

    # the first-start key still active fails the item; revoking it passes it
    first = server.post(
        "/v1/admin/keys", json={"name": "admin (first start)", "roles": ["admin"]}
    ).json()
    assert _items(server)["admin-key"]["status"] == "fail"
    server.cli("keys", "revoke", first["data"]["id"])
    assert _items(server)["admin-key"]["status"] == "pass"

    # a second version makes the rollback drill possible: really back, then forward again
    v1 = _served_version(server)
    v2 = _new_version(server, tmp_path, c=0.05)
    server.post("/v1/admin/models/breast-cancer/promote", json={"version": v2})
    assert _served_version(server) == v2
    items = _items(server)
    assert items["rollback-drill"]["status"] == "pass", items["rollback-drill"]
    assert f"v{v2}→v{v1}→v{v2}" in items["rollback-drill"]["evidence"]
    assert _served_version(server) == v2  # ends where it started
    history = server.get("/v1/admin/models/breast-cancer/history").json()["data"]
    drill = [e for e in history if e["reason"].startswith("readiness drill")]
    assert [e["action"] for e in drill] == ["rollback", "promote"]
    assert [e["version"] for e in drill] == [v1, v2]

    # a load test at 2x the declared peak, through the server, recorded on it
    for name in DEMO:
        done = server.cli(
            "bench", name, "--peak", "5", "--duration", "1", "--url", server.url,
            "--key", server.admin_key, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr
        assert "PASS" in done.stdout
    assert _items(server)["load-test"]["status"] == "pass"

    # the review path walked end to end: a request queued, claimed and decided by a person
    r = server.post(
        "/v1/deployments/support-intent/predict",
        json={"input": "I was charged twice"},
        headers={**server.auth, "x-bastion-review": "request"},
    )
    assert r.status_code in (200, 202), r.text
    (item,) = server.get("/v1/review/items", params={"deployment": "support-intent"}).json()["data"]
    assert server.post(f"/v1/review/items/{item['id']}/claim").status_code == 200
    decided = server.post(f"/v1/review/items/{item['id']}/decide", json={"action": "approve"})
    assert decided.status_code == 200, decided.text
    assert _items(server)["review-path"]["status"] == "pass"

    # a backup (offline, while serving) and a restore drill reported to the server
    backups = tmp_path / "backups"
    server.cli("backup", "--out", str(backups))
    (made,) = list(backups.iterdir())
    scratch = tmp_path / "scratch"
    done = server.cli(
        "restore", str(made), "--data-dir", str(scratch), "--database-url",
        f"sqlite:///{scratch / 'bastion.db'}", "--report-url", server.url,
        "--key", server.admin_key,
    )  # fmt: skip
    assert "audit chain verified" in done.stdout
    env = {**server.env, "BASTION_DATA_DIR": str(scratch)}  # the restored copy, offline
    done = subprocess.run(
        [BASTION, "audit", "verify", "--offline"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert "records verified" in done.stdout
    code, items = _check(server)  # the CLI again, end to end
    assert items["backups"]["status"] == "pass"
    assert items["restore-tested"]["status"] == "pass"
    failing = {name for name, item in items.items() if item["status"] == "fail"}
    assert code == 1 and failing == {"eval-gates", "eval-sets", "drift-references"}, failing


def test_check_speaks_junit_for_ci(server: Server) -> None:
    done = server.cli(
        "check", "--url", server.url, "--key", server.admin_key, "--format", "junit",
        "--no-drills", check=False,
    )  # fmt: skip
    root = ET.fromstring(done.stdout.split("\n", 1)[1] if done.stdout.startswith("<?") else "")
    failures = int(root.attrib["failures"])
    assert failures == len(root.findall(".//failure"))
    assert (done.returncode == 1) == (failures > 0)
    names = {case.attrib["name"] for case in root.iter("testcase")}
    assert {"rollback-drill", "load-test", "restore-tested", "runbooks"} <= names


def test_a_drill_refused_changes_nothing(server: Server) -> None:
    before = server.get("/v1/admin/models/minilm/history").json()["data"]
    r = server.post("/v1/admin/models/minilm/rollback/drill", json={"alias": "production"})
    assert r.status_code == 409 and "earlier version" in r.json()["error"]["message"]
    assert server.get("/v1/admin/models/minilm/history").json()["data"] == before
    client = server.post("/v1/admin/keys", json={"name": "app", "roles": ["client"]}).json()["key"]
    r = server.post(
        "/v1/admin/models/minilm/rollback/drill",
        json={},
        headers={"authorization": f"Bearer {client}"},
    )
    assert r.status_code == 403


def test_operation_records_belong_to_their_tenant(server: Server) -> None:
    def key(tenant: str) -> dict[str, str]:
        made = server.post(
            "/v1/admin/keys",
            json={"name": f"ops-{tenant}", "roles": ["operator"], "tenant": tenant},
        ).json()
        return {"authorization": f"Bearer {made['key']}"}

    acme, globex = key("acme"), key("globex")
    body = {"kind": "load_test", "subject": "acme-dep", "passed": True, "summary": "ok"}
    made = server.post("/v1/admin/operations/records", json=body, headers=acme).json()
    assert made["tenant"] == "acme"
    seen = server.get("/v1/admin/operations/records", headers=globex).json()["data"]
    assert made["id"] not in [r["id"] for r in seen]
    mine = server.get("/v1/admin/operations/records", headers=acme).json()["data"]
    assert made["id"] in [r["id"] for r in mine]
    huge = {**body, "details": {"blob": "x" * 70_000}}
    refused = server.post("/v1/admin/operations/records", json=huge, headers=acme)
    assert refused.status_code == 422
    after = server.get("/v1/admin/operations/records", headers=acme).json()["data"]
    assert after == mine  # nothing stored


def test_capacity_and_autoscaling_signals(server: Server) -> None:
    for _ in range(5):
        _served_version(server)
    cap = server.get("/v1/admin/capacity", params={"replicas": 3}).json()
    assert cap["capacity"] == 64 and 0 <= cap["saturation"] < 1
    assert cap["recommended_replicas"] >= 1 and cap["replicas"] == 3
    assert cap["requests_per_s"] > 0
    text = server.get("/metrics").text
    for name in (
        "bastion_worker_in_flight",
        "bastion_worker_saturation",
        "bastion_token_throughput",
        "bastion_queue_oldest_seconds",
        "bastion_queue_wait_p95_seconds",
        "bastion_queue_depth",
    ):
        assert f"\n{name}" in text, name


def test_bench_refuses_a_remote_server_without_the_flag(server: Server) -> None:
    done = server.cli(
        "bench", "breast-cancer", "--peak", "1", "--url", "http://10.255.255.1:9", check=False
    )
    assert done.returncode == 2 and "--allow-remote" in done.stderr
