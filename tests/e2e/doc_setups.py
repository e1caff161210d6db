"""What the pages' fixture maps set up on the test server before a page's commands run, and
the values they read from it while the commands run (tests/e2e/doc_pages.py)."""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from tests.e2e import doc_files
from tests.e2e.server import Server


def new_key(server: Server, *args: str) -> str:
    done = server.cli("keys", "create", *args)
    return done.stdout.strip().splitlines()[-1]  # the secret, printed alone on the last line


def register(server: Server, work: Path, name: str, up_to: int) -> None:
    """Versions of ``name`` (a retrained breast-cancer classifier each) until it has ``up_to``."""
    for c in (0.5, 0.25, 0.125, 2.0, 4.0, 8.0, 16.0, 32.0)[:up_to]:
        found = server.get(f"/v1/admin/models/{name}")
        if found.status_code == 200 and len(found.json()["versions"]) >= up_to:
            return
        artifact = work / f"retrained-{c}.onnx"
        doc_files.onnx_model(artifact, c=c)  # another C: other weights, another version
        server.cli("models", "register", name, str(artifact), "--signature", "sig.json", cwd=work)


def fraud_in_production(server: Server, work: Path) -> Mapping[str, str]:
    """The README's `fraud` already has a version in production (registered, promoted)."""
    register(server, work, "fraud", 1)
    server.cli("models", "promote", "fraud", "1", check=False)
    return {"APPROVER_KEY": new_key(server, "--name", "approver", "--role", "approver")}


def breast_cancer_v3(server: Server, work: Path) -> Mapping[str, str]:
    """The pages evaluate and backfill retrained breast-cancer versions (2 and 3)."""
    register(server, work, "breast-cancer", 3)
    return {}


def exported(server: Server, work: Path, name: str) -> Mapping[str, str]:
    server.cli("audit", "export", "-o", str(work / name))
    return {}


def first(server: Server, path: str, field: str = "id") -> str:
    data: list[dict[str, Any]] = server.get(path).json()["data"]
    assert data, f"GET {path}: nothing there"
    return str(data[0][field])


def newest_backup(server: Server, work: Path) -> str:
    return str(sorted((work / "backups").glob("bastion-*"))[-1])


def review_items(server: Server, work: Path, n: int) -> dict[str, str]:
    """``n`` fresh review items (clients asking for a review), ITEM1…ITEMn, and REQUEST_ID."""
    found: dict[str, str] = {}
    for i in range(1, n + 1):
        answer = server.post(
            "/v1/deployments/support-intent/predict",
            json={"input": f"I was charged twice ({i})"},
            headers={**server.auth, "x-bastion-review": "request"},
        )
        assert answer.status_code == 200, answer.text
        body = answer.json()
        found[f"ITEM{i}"] = body["review"]["items"][0]["review_id"]
        found["REQUEST_ID"] = body["id"]
    return found


def claimed(server: Server, work: Path) -> str:
    """The review item this key holds (the one `bastion review claim` took)."""
    items = server.get("/v1/review/items").json()["data"]
    return str(next(i["id"] for i in items if i.get("claimed_by")))


def dead_action(server: Server, work: Path) -> Mapping[str, str]:
    """A decision whose action died (its destination refused it)."""
    answer = server.post("/v1/deployments/support-intent/predict", json={"input": "refund me"})
    assert answer.status_code == 200, answer.text
    for _ in range(100):
        if server.get("/v1/admin/actions?status=dead").json()["data"]:
            return {}
        time.sleep(0.1)
    raise AssertionError("no action died within 10 s")


def prompt_versions(server: Server, work: Path) -> Mapping[str, str]:
    """The page's prompt has two earlier versions (its `register` makes the third), the first
    in production (what `rollback` returns to), the collection its retrieval reads, the eval
    set it is scored on, and an approver key."""
    template = (work / "prompt.yaml").read_text()
    for temperature in ("0.3", "0.4"):
        variant = work / f"prompt-{temperature}.yaml"
        variant.write_text(template.replace("temperature: 0.2", f"temperature: {temperature}"))
        server.cli("prompts", "register", "support-answer", str(variant), check=False)
    server.cli("prompts", "promote", "support-answer", "1", check=False)  # 409: already is
    server.cli("rag", "create", "handbook", check=False)
    server.cli("rag", "index", "handbook", str(work / "handbook"))
    server.cli("eval", "sets", "register", "support-golden", str(work / "support-golden.jsonl"))
    return {"APPROVER_KEY": new_key(server, "--name", "prompts-approver", "--role", "approver")}


def rollout_models(server: Server, work: Path) -> Mapping[str, str]:
    """What the page's config names: fraud-scorer v1 (production) to v8 (v7 the shadow's
    `candidate`), ranker v1 (production) to v3 with v2 as the A/B test's `challenger`."""
    for name, versions, aliases in (
        ("fraud-scorer", 8, {"production": 1, "candidate": 7}),
        ("ranker", 3, {"production": 1, "challenger": 2}),
    ):
        register(server, work, name, versions)
        for alias, version in aliases.items():
            done = server.request(
                "PUT", f"/v1/admin/models/{name}/aliases/{alias}", json={"version": version}
            )
            assert done.status_code == 200, done.text
    return {}


def quarantined(server: Server, work: Path) -> Mapping[str, str]:
    """A breast-cancer input that breaks the contract's range rule, held in the quarantine."""
    row = {name: 1.0 for name in doc_files.feature_names()} | {"mean_radius": 100.0}
    for _ in range(3):
        answer = server.post("/v1/deployments/breast-cancer/predict", json={"input": row})
        assert answer.status_code == 200, answer.text
    return {}
