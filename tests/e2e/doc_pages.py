"""The fixture map of every page whose commands run (tests/e2e/test_doc_commands_run.py), and
the reviewed list of the commands this machine cannot run."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from tests.e2e import doc_files
from tests.e2e.doc_page import Page, Skip, block
from tests.e2e.server import Server

# what the pages' commands need of the server they all share, besides the demo models
LLM = """
llm:
  groups:
    - name: support-llm
      upstreams: [{name: fake, base_url: "{upstream}", model: m-ok}]
"""
REVIEW = """
review:
  policies:
    - {deployment: support-intent, client_may_request: true, mode: async, fallback: model}
"""
CONTRACT = """
data:
  contracts:
    - deployment: breast-cancer
      policy: quarantine
      rules: [{name: radius_range, kind: range, field: mean_radius, min: 5, max: 40}]
"""
# a test-only key, so that `bastion audit rotate-key` has keys to rotate with
ENCRYPTION = "encryption: {keys: 'k1:rEItXRgwljpfmVcAbVopRuxlLsFYnXNwcpP0YPHTFc0='}"
PYTHON_MODEL = block("docs/python-models.md", "python")


def _new_key(server: Server, *args: str) -> str:
    done = server.cli("keys", "create", *args)
    return done.stdout.strip().splitlines()[-1]  # the secret, printed alone on the last line


def _register(server: Server, work: Path, name: str, up_to: int) -> None:
    """Versions of ``name`` (a retrained breast-cancer classifier each) until it has ``up_to``."""
    for c in (0.5, 0.25, 0.125, 2.0, 4.0, 8.0, 16.0, 32.0)[:up_to]:
        found = server.get(f"/v1/admin/models/{name}")
        if found.status_code == 200 and len(found.json()["versions"]) >= up_to:
            return
        artifact = work / f"retrained-{c}.onnx"
        doc_files.onnx_model(artifact, c=c)  # another C: other weights, another version
        server.cli("models", "register", name, str(artifact), "--signature", "sig.json", cwd=work)


def _fraud_in_production(server: Server, work: Path) -> Mapping[str, str]:
    """The README's `fraud` already has a version in production (registered, promoted)."""
    _register(server, work, "fraud", 1)
    server.cli("models", "promote", "fraud", "1", check=False)
    return {"APPROVER_KEY": _new_key(server, "--name", "approver", "--role", "approver")}


def _breast_cancer_v3(server: Server, work: Path) -> Mapping[str, str]:
    """The pages evaluate and backfill retrained breast-cancer versions (2 and 3)."""
    _register(server, work, "breast-cancer", 3)
    return {}


def _first(server: Server, path: str, field: str = "id") -> str:
    data: list[dict[str, Any]] = server.get(path).json()["data"]
    assert data, f"GET {path}: nothing there"
    return str(data[0][field])


def _newest_backup(server: Server, work: Path) -> str:
    return str(sorted((work / "backups").glob("bastion-*"))[-1])


def _review_items(server: Server, work: Path, n: int) -> dict[str, str]:
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


def _claimed(server: Server, work: Path) -> str:
    """The review item this key holds (the one `bastion review claim` took)."""
    items = server.get("/v1/review/items").json()["data"]
    return str(next(i["id"] for i in items if i.get("claimed_by")))


def _quarantined(server: Server, work: Path) -> Mapping[str, str]:
    """A breast-cancer input that breaks the contract's range rule, held in the quarantine."""
    row = {name: 1.0 for name in doc_files.feature_names()} | {"mean_radius": 100.0}
    for _ in range(3):
        answer = server.post("/v1/deployments/breast-cancer/predict", json={"input": row})
        assert answer.status_code == 200, answer.text
    return {}


PAGES: Mapping[str, Page] = {
    "README.md": Page(
        files={
            "model.onnx": doc_files.onnx_model,
            "signature.json": doc_files.signature,
            "sig.json": doc_files.signature,
            "train.csv": doc_files.features_csv,
            "model.skops": doc_files.sklearn_model,
            "model.joblib": doc_files.sklearn_model,
            "golden.jsonl": doc_files.golden_jsonl,
            "prompt.yaml": block("docs/prompts.md", "yaml"),
        },
        config=LLM,
        modules={"mypkg/__init__.py": "", "mypkg/rules.py": PYTHON_MODEL},
        setup=_fraud_in_production,
        before={  # each promotes what an earlier line already promoted: undo that first
            '$B models promote fraud 2 --override --reason "incident 42"': (
                "$B models rollback fraud"
            ),
            'bastion models promote fraud 2 --reason "better recall"': (
                "bastion models rollback fraud"
            ),
        },
    ),
    "docs/alerts.md": Page(server=False, files={"bastion.yaml": block("docs/alerts.md", "yaml")}),
    "docs/audit.md": Page(config=ENCRYPTION),
    "docs/backup.md": Page(
        values={"DIR": "{work}/backups", "BACKUP_DIR": _newest_backup},
        replace={
            "/backups/bastion-20261207T030000Z-1a2b3c": "{BACKUP_DIR}",
            "/backups": "{work}/backups",
            "/tmp/drill": "{work}/drill",
            "https://bastion.internal": "{url}",
        },
        # the shortest form restores into the configured (live) data dir: refused, as the
        # page says ("only into an empty place")
        status={
            "bastion restore BACKUP_DIR [--data-dir DIR] [--database-url URL] [--report-url "
            "URL] [--key KEY]": 1
        },
    ),
    "docs/check.md": Page(
        values={"DEPLOYMENT": "breast-cancer", "RPS": "5"},
        # a fresh demo server has items to fix: "the exit code is 1 when any item fails"
        status={
            "bastion check [--url URL] [--key KEY] [--config FILE] [--format table|json|junit]": 1
        },
    ),
    "docs/console.md": Page(
        config=REVIEW,
        setup=lambda server, work: _review_items(server, work, 2),
        lines={  # the CLI and the API each correct an item of their own
            'bastion review correct ITEM --output billing_question --reason "double charge"': {
                "ITEM": "{ITEM1}"
            },
            'curl -X POST $URL/v1/review/items/ITEM/decide -H "Authorization: Bearer $KEY" '
            '-H "Content-Type: application/json" -d \'{"action": "correct", "output": '
            '{"label": "billing_question"}, "reason": "double charge"}\'': {"ITEM": "{ITEM2}"},
        },
    ),
    "docs/data.md": Page(
        config=CONTRACT,
        files={
            "today.parquet": doc_files.features_parquet,
            "customers.parquet": doc_files.customers_parquet,
            "train_ids.csv": "customer_id\nc1\nc2\n",
        },
        setup=_quarantined,
        values={
            "ID": lambda server, work: _first(server, "/v1/admin/quarantine"),
        },
    ),
    "docs/deploy.md": Page(server=False, replace={"deploy/compose": "{root}/deploy/compose"}),
    "docs/evaluation.md": Page(
        files={
            "golden.jsonl": doc_files.golden_jsonl,
            "model.onnx": doc_files.onnx_model,
            "sig.json": doc_files.signature,
        },
        setup=_breast_cancer_v3,
    ),
    "docs/jobs.md": Page(
        files={
            "data.parquet": doc_files.features_parquet,
            "data.csv": doc_files.features_csv,
            "history.jsonl": doc_files.history_jsonl,
            "model.onnx": doc_files.onnx_model,
            "sig.json": doc_files.signature,
        },
        setup=_breast_cancer_v3,
        values={"JOB": lambda server, work: _first(server, "/v1/admin/jobs")},
    ),
    "docs/python-models.md": Page(
        files={
            "rules.py": PYTHON_MODEL,
            "signature.json": block("docs/python-models.md", "json"),
        },
        modules={"mypkg/__init__.py": "", "mypkg/rules.py": PYTHON_MODEL},
    ),
    "docs/rag.md": Page(
        files={
            "handbook/leave.md": "# Leave\n\nEvery employee has 25 vacation days a year.\n",
            "handbook/policies/old.md": "# Old policy\n\nSuperseded.\n",
        }
    ),
    "docs/review.md": Page(
        config=REVIEW,
        setup=lambda server, work: _review_items(server, work, 6),
        values={
            "R": "checked",
            "JSON": '\'{"label": "refund_request"}\'',
        },
        lines={
            "bastion review show ID": {"ID": "{ITEM1}"},
            "bastion review approve ID [--reason R]": {"ID": "{ITEM2}"},
            'bastion review correct ID --output refund_request --reason "customer asked for a '
            'refund"': {"ID": "{ITEM3}"},
            "bastion review reject ID --reason R": {"ID": "{ITEM4}"},
            "bastion review escalate ID --reason R": {"ID": "{ITEM5}"},
            "bastion review release ID": {"ID": _claimed},
        },
    ),
}

SKIPS: tuple[Skip, ...] = (
    Skip(
        "README.md",
        "make serve",
        "the test's own server is what `make serve` starts (`bastion serve` on a first-run "
        "data dir, demo models seeded); another on port 8000 would collide",
    ),
    Skip("README.md", "make test", "it is the suite this test runs in"),
    Skip(
        "docs/deploy.md",
        "docker build -f deploy/Dockerfile -t bastion:0.1.0 .",
        "needs a Docker daemon (tests/deploy/ checks the Dockerfile without one)",
    ),
    Skip(
        "docs/deploy.md",
        "BASTION_ADMIN_KEY=bst_$(openssl rand -hex 16) docker-compose -f "
        "deploy/compose/docker-compose.yml up",
        "needs a Docker daemon (tests/deploy/ validates the compose file without one)",
    ),
)
