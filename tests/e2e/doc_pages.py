"""The fixture map of every page whose commands run (tests/e2e/test_doc_commands_run.py), and
the reviewed list of the commands this machine cannot run."""

from __future__ import annotations

from collections.abc import Mapping

from tests.e2e import doc_files, doc_setups
from tests.e2e.doc_page import Page, Skip, block

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
# an action whose destination refuses every call (nothing listens on port 9): it dies at once
ACTIONS = """
actions:
  destinations:
    crm: {kind: http, url: "http://127.0.0.1:9", timeout_s: 1}
  deployments:
    support-intent:
      - name: ticket
        when: 'confidence >= 0'
        max_attempts: 1
        steps: [{name: ticket, destination: crm, method: POST, path: /tickets}]
"""
# a test-only key, so that `bastion audit rotate-key` has keys to rotate with
ENCRYPTION = "encryption: {keys: 'k1:rEItXRgwljpfmVcAbVopRuxlLsFYnXNwcpP0YPHTFc0='}"
PYTHON_MODEL = block("docs/python-models.md", "python")


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
        setup=doc_setups.fraud_in_production,
        before={  # each promotes what an earlier line already promoted: undo that first
            '$B models promote fraud 2 --override --reason "incident 42"': (
                "$B models rollback fraud"
            ),
            'bastion models promote fraud 2 --reason "better recall"': (
                "bastion models rollback fraud"
            ),
        },
    ),
    "docs/actions.md": Page(
        config=ACTIONS,
        setup=doc_setups.dead_action,
        values={
            "ID": lambda server, work: doc_setups.first(server, "/v1/admin/actions?status=dead")
        },
        lines={  # "an unfinished (or dead) action": the newest, whatever its state
            "bastion actions drop ID": {
                "ID": lambda server, work: doc_setups.first(server, "/v1/admin/actions")
            }
        },
    ),
    "docs/alerts.md": Page(server=False, files={"bastion.yaml": block("docs/alerts.md", "yaml")}),
    "docs/audit.md": Page(
        config=ENCRYPTION,
        # the page's Python check of an export, on an export of the test server's chain
        setup=lambda server, work: doc_setups.exported(server, work, "audit.jsonl"),
        programs=(0,),
    ),
    "docs/backup.md": Page(
        values={"DIR": "{work}/backups", "BACKUP_DIR": doc_setups.newest_backup},
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
        setup=lambda server, work: doc_setups.review_items(server, work, 2),
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
        setup=doc_setups.quarantined,
        values={
            "ID": lambda server, work: doc_setups.first(server, "/v1/admin/quarantine"),
        },
    ),
    "docs/deploy.md": Page(server=False, replace={"deploy/compose": "{root}/deploy/compose"}),
    "docs/evaluation.md": Page(
        files={
            "golden.jsonl": doc_files.golden_jsonl,
            "model.onnx": doc_files.onnx_model,
            "sig.json": doc_files.signature,
        },
        setup=doc_setups.breast_cancer_v3,
    ),
    "docs/guards.md": Page(  # no commands: its whole-program examples, from the repo's root
        server=False, programs=(0, 2, 3), files={"bastion": doc_files.repository("bastion")}
    ),
    "docs/jobs.md": Page(
        files={
            "data.parquet": doc_files.features_parquet,
            "data.csv": doc_files.features_csv,
            "history.jsonl": doc_files.history_jsonl,
            "model.onnx": doc_files.onnx_model,
            "sig.json": doc_files.signature,
        },
        setup=doc_setups.breast_cancer_v3,
        values={"JOB": lambda server, work: doc_setups.first(server, "/v1/admin/jobs")},
        # the page's period is last month; the test server's log holds today's predictions
        replace={"--since 2026-11-01 --until 2026-12-01": "--since {TODAY} --until {TOMORROW}"},
        before={  # a job still running, for `cancel` to stop: a backfill paced to 1 row/s
            "bastion batch cancel JOB": "nohup bastion backfill breast-cancer --version 3 "
            "--input history.jsonl --rate 1 >/dev/null 2>&1 & sleep 3",
        },
    ),
    "docs/prompts.md": Page(
        config=LLM,
        files={
            "prompt.yaml": block("docs/prompts.md", "yaml"),
            "handbook/refunds.md": "# Refunds\n\nRefunds are paid within fourteen days.\n",
            "support-golden.jsonl": '{"input": {"question": "When are refunds paid?", '
            '"product": "shop"}, "expected": "fourteen"}\n',
        },
        setup=doc_setups.prompt_versions,
        lines={  # "an approver key other than the registrant's"
            "bastion prompts approve support-answer 2": {"BASTION_KEY": "{APPROVER_KEY}"}
        },
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
    "docs/rollouts.md": Page(
        own_config=block("docs/rollouts.md", "yaml"),  # the page's own config, as written
        files={"sig.json": doc_files.signature},
        setup=doc_setups.rollout_models,
    ),
    "docs/review.md": Page(
        config=REVIEW,
        setup=lambda server, work: doc_setups.review_items(server, work, 6),
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
            "bastion review release ID": {"ID": doc_setups.claimed},
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
