"""Names that point at other objects are checked (issue 23), through a real server and the CLI.

The server configures no deployments, so every registered model with a ``production`` alias
is one: ``fraud-scorer`` exists and ``fraud`` does not. A key granting ``fraud``, a Python
model whose entry point the server cannot import, and every per-deployment read of ``fraud``
are refused, naming the unknown name and the nearest known one, and nothing changes.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.server import Server, make_server

pytestmark = pytest.mark.e2e

MODELS = "tests.routing.rollouts.models"
READS = [
    "/v1/admin/deployments/fraud/shadow",
    "/v1/admin/deployments/fraud/canary",
    "/v1/admin/deployments/fraud/ab",
    "/v1/admin/deployments/fraud/drift",
    "/v1/admin/deployments/fraud/accuracy",
    "/v1/review/items?deployment=fraud",
    "/v1/review/export?deployment=fraud",
    "/v1/costs/budgets?deployment=fraud",
]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    root = tmp_path_factory.mktemp("unknown-names")
    found = make_server(root / "data", BASTION_DEMO="false")
    found.start()
    try:
        found.cli("models", "register", "fraud-scorer", "--entry-point", f"{MODELS}:stable")
        found.cli("models", "promote", "fraud-scorer", "1")
        yield found
    finally:
        found.stop()


def _names_fraud(answer: httpx.Response) -> None:
    assert answer.status_code == 404, answer.text
    error = answer.json()["error"]
    assert error["type"] == "not_found"
    assert "no deployment named 'fraud'" in error["message"]
    assert "did you mean 'fraud-scorer'?" in error["message"]


def _keys(server: Server) -> list[dict[str, Any]]:
    answer = server.get("/v1/admin/keys")
    assert answer.status_code == 200, answer.text
    return list(answer.json()["data"])


def _registry(server: Server) -> dict[str, Any]:
    models = server.get("/v1/admin/models").json()["data"]
    versions = {m["name"]: server.get(f"/v1/admin/models/{m['name']}").json() for m in models}
    return {"models": models, "versions": versions}


def test_a_key_for_an_unknown_deployment_is_refused_and_none_is_created(server: Server) -> None:
    before = _keys(server)
    body = {"name": "app", "roles": ["client"], "deployments": ["fraud"]}
    _names_fraud(server.post("/v1/admin/keys", json=body))
    done = server.cli("keys", "create", "--name", "app", "--deployment", "fraud", check=False)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "no deployment named 'fraud'" in done.stdout + done.stderr
    assert _keys(server) == before

    made = server.cli("keys", "create", "--name", "app", "--deployment", "fraud-scorer")
    assert made.stdout.startswith("created")
    assert len(_keys(server)) == len(before) + 1


def test_a_python_model_the_server_cannot_import_is_refused_and_not_registered(
    server: Server, tmp_path: Path
) -> None:
    before = _registry(server)
    missing = server.post(
        "/v1/admin/models/rules/versions",
        json={"flavor": "python", "params": {"entry_point": "mypkg.rules:predict"}},
    )
    assert missing.status_code == 422, missing.text
    error = missing.json()["error"]
    assert error["param"] == "params.entry_point"
    assert "module 'mypkg.rules' cannot be imported on the server" in error["message"]
    assert "install the package" in error["message"]

    no_attr = server.post(
        "/v1/admin/models/fraud-scorer/versions",
        json={"flavor": "python", "params": {"entry_point": f"{MODELS}:nope"}},
    )
    assert no_attr.status_code == 422, no_attr.text
    assert f"module '{MODELS}' has no attribute 'nope'" in no_attr.json()["error"]["message"]

    not_callable = server.post(
        "/v1/admin/models/fraud-scorer/versions",
        json={"flavor": "python", "params": {"entry_point": "os:sep"}},
    )
    assert not_callable.status_code == 422, not_callable.text
    assert "'os:sep' is a str" in not_callable.json()["error"]["message"]

    done = server.cli(
        "models", "register", "rules", "--entry-point", "mypkg.rules:predict", check=False
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "cannot be imported on the server" in done.stdout + done.stderr

    source = tmp_path / "rules.py"
    source.write_text("def score(inputs):\n    return [1 for _ in inputs]\n")
    upload = server.cli(
        "models", "register", "rules", str(source), "--entry-point", "predict", check=False
    )
    assert upload.returncode == 1, upload.stdout + upload.stderr
    assert "defines no top-level 'predict' (top-level names: score)" in (
        upload.stdout + upload.stderr
    )
    assert _registry(server) == before

    # a file defining it is accepted without being run
    source.write_text("raise SystemExit('never run at registration')\ndef predict(x): ...\n")
    server.cli("models", "register", "rules", str(source), "--entry-point", "predict")
    assert "rules" in {m["name"] for m in _registry(server)["models"]}


@pytest.mark.parametrize("path", READS)
def test_reads_of_an_unknown_deployment_answer_404_with_the_nearest_name(
    server: Server, path: str
) -> None:
    _names_fraud(server.get(path))
    known = server.get(path.replace("fraud", "fraud-scorer"))
    assert "no deployment named" not in known.text, known.text  # 200, or 404 for what it lacks
    assert known.status_code in (200, 404), known.text


def test_the_cli_exits_non_zero_on_an_unknown_deployment(server: Server) -> None:
    for args in (
        ("shadow", "report", "fraud"),
        ("canary", "status", "fraud"),
        ("ab", "report", "fraud"),
        ("drift", "report", "fraud"),
        ("review", "list", "--deployment", "fraud"),
    ):
        done = server.cli(*args, check=False)
        assert done.returncode != 0, args
        said = done.stdout + done.stderr
        assert "no deployment named 'fraud'" in said and "fraud-scorer" in said, (args, said)
    assert server.cli("canary", "status", "fraud-scorer").returncode == 0


def test_a_canary_of_an_unknown_deployment_changes_nothing(server: Server) -> None:
    before = _registry(server)
    _names_fraud(server.post("/v1/admin/deployments/fraud/canary", json={"version": 1}))
    _names_fraud(server.post("/v1/admin/deployments/fraud/canary/abort", json={}))
    _names_fraud(server.post("/v1/admin/deployments/fraud/drift/baseline", json={}))
    assert _registry(server) == before
    assert (
        json.loads(server.cli("canary", "status", "fraud-scorer", "--json").stdout)["canary"]
        is None
    )


def test_the_nearest_name_is_one_the_caller_may_see(server: Server) -> None:
    made = server.post(
        "/v1/admin/keys", json={"name": "ops", "roles": ["operator"], "tenant": "acme"}
    )
    assert made.status_code == 201, made.text
    other = {"Authorization": f"Bearer {made.json()['key']}"}
    answer = server.get("/v1/admin/deployments/fraud/shadow", headers=other)
    assert answer.status_code == 404, answer.text
    said = answer.json()["error"]["message"]
    assert "no deployment named 'fraud'" in said and "fraud-scorer" not in said


def test_a_source_sent_inline_must_define_its_entry_point(server: Server) -> None:
    before = _registry(server)
    body = {
        "flavor": "python",
        "artifact_base64": base64.b64encode(b"def score(x): ...\n").decode(),
        "params": {"entry_point": "predict"},
    }
    answer = server.post("/v1/admin/models/inline/versions", json=body)
    assert answer.status_code == 422, answer.text
    assert "defines no top-level 'predict'" in answer.json()["error"]["message"]
    assert _registry(server) == before
