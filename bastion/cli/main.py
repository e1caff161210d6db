"""The `bastion` command: serve, db, and the commands that talk to a running server.

Every command module imports only Typer at its top and loads what it uses inside its
commands, so that `bastion --help` and the commands that ask the server start at once.
"""

from __future__ import annotations

import os
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING

import typer

from bastion.cli.common import ConfigOption, console, run, settings_from
from bastion.cli.lazy import Lazy, LazyGroup

if TYPE_CHECKING:
    from bastion.settings import Settings


class BastionGroup(LazyGroup):
    """`bastion`'s sub-command groups, each imported only when it is used."""

    LAZY = MappingProxyType(
        {
            "models": Lazy(
                "bastion.cli.models:app",
                "The model registry: versions, aliases, promotion and rollback (through the "
                "server).",
            ),
            "prompts": Lazy(
                "bastion.cli.prompts:app",
                "Prompt templates: versions, aliases, gated promotion and rollback (through "
                "the server).",
            ),
            "artifacts": Lazy(
                "bastion.cli.artifacts:app",
                "The artifact store: show it, migrate to another (through the server; admins).",
            ),
            "keys": Lazy(
                "bastion.cli.keys:app",
                "API keys: create (shown once), list, rotate, revoke (through the server; admins).",
            ),
            "costs": Lazy(
                "bastion.cli.costs:app", "Costs: what each key, team, tenant and model spent."
            ),
            "guards": Lazy(
                "bastion.cli.guards:app",
                "Guards: evaluate PII detection and injection screening (local, on files).",
            ),
            "chaos": Lazy(
                "bastion.cli.chaos:app",
                "Chaos drills: a fault-injecting upstream to point Bastion at (local).",
            ),
            "alerts": Lazy(
                "bastion.cli.alerts:app", "Alerts: history, acknowledgement, webhook tests."
            ),
            "audit": Lazy(
                "bastion.cli.audit:app",
                "The tamper-evident audit log: verify, export, rotate-key, gen-key.",
            ),
            "export": Lazy(
                "bastion.cli.export:app",
                "Exports for teams that run their own Prometheus and Grafana (from the config "
                "file, no server needed).",
            ),
            "review": Lazy(
                "bastion.cli.review:app",
                "Human review: list, claim, approve, correct, reject, escalate, export.",
            ),
            "drift": Lazy(
                "bastion.cli.drift:app",
                "Drift: live traffic against each version's reference profile.",
            ),
            "eval": Lazy(
                "bastion.cli.evaluation:app",
                "Evaluation: eval sets, runs with scorers and slices, reports.",
            ),
            "shadow": Lazy(
                "bastion.cli.rollouts:shadow_app",
                "Shadow traffic: candidates replaying live calls.",
            ),
            "canary": Lazy(
                "bastion.cli.rollouts:canary_app",
                "Canaries: progressive traffic with automatic rollback.",
            ),
            "ab": Lazy(
                "bastion.cli.rollouts:ab_app",
                "A/B tests: sticky arms, per-arm figures, significance.",
            ),
            "actions": Lazy(
                "bastion.cli.actions:app", "Downstream actions: list, show, retry, drop."
            ),
            "batch": Lazy(
                "bastion.cli.batch:app",
                "Batch jobs: score a CSV, JSONL or Parquet file on the server.",
            ),
            "quarantine": Lazy(
                "bastion.cli.quarantine:app",
                "Rows that broke a deployment's data contract, held for review.",
            ),
            "data": Lazy(
                "bastion.cli.data:app", "Data: compare inputs with what a deployment expects."
            ),
            "features": Lazy(
                "bastion.cli.features:app",
                "Feature lookup: load the built-in table; export training rows.",
            ),
            "rag": Lazy(
                "bastion.cli.rag:app",
                "Retrieval collections: create, index files and folders, search, delete.",
            ),
            "check": Lazy(
                "bastion.cli.check:check",
                "Audit a running deployment: reliability, observability, security, cost, "
                "operations, data and model items, each pass/warn/fail with evidence and the "
                "fix, scored like Google's ML Test Score. Exits 1 if any item fails (for CI "
                "and deploy gates).",
            ),
            "bench": Lazy(
                "bastion.cli.bench:bench",
                "Load-test DEPLOYMENT at 2x --peak through the running server, live, bounded in "
                "time (--duration) and count (--max-requests); verdict against the SLO; exit 1 "
                "if it fails.",
            ),
            "backup": Lazy(
                "bastion.cli.backup:backup",
                "Back up the database and the artifact store, with a manifest of sha256 hashes.",
            ),
            "restore": Lazy(
                "bastion.cli.backup:restore",
                "Restore a backup into an EMPTY database and data dir, check every hash, and "
                "prove it: the audit chain must verify up to the head the backup recorded (exit "
                "1 if not).",
            ),
            "backfill": Lazy(
                "bastion.cli.backfill:backfill",
                "Re-run logged inputs (or a file) through VERSION and compare with what was "
                "answered.",
            ),
        }
    )


app = typer.Typer(
    rich_markup_mode=None,
    cls=BastionGroup,
    help="Bastion: the production layer for AI models. Commands that act on a running "
    "system talk to the server at --url / $BASTION_URL with --key / $BASTION_KEY (or the "
    "profile file ~/.config/bastion/profile.json); serve, db upgrade, keys create --offline "
    "and the --offline checks work on the local data dir.",
    no_args_is_help=True,
)
db_app = typer.Typer(
    rich_markup_mode=None,
    help="Database migrations (local: no server needed).",
    no_args_is_help=True,
)
app.add_typer(db_app, name="db")


def _announce(settings: Settings) -> None:
    scheme = "https" if settings.server.ssl_certfile else "http"
    base = f"{scheme}://{settings.server.host}:{settings.server.port}"
    console.print(f"Bastion on {base}  (data: {settings.data_dir.resolve()})")
    console.print(f"  API docs     {base}/docs   (OpenAPI: {base}/openapi.json)")
    console.print(f"  deployments  {base}/v1/deployments")
    console.print(f"  predict      POST {base}/v1/deployments/NAME/predict")
    console.print(f"  OIP v2       POST {base}/v2/models/NAME/infer")
    console.print(f"  embeddings   POST {base}/v1/embeddings")
    console.print(
        "Authenticate with 'Authorization: Bearer $BASTION_KEY' (admin key printed on "
        "first start; more with `bastion keys create`)."
    )


def _refuse_missing_secrets(settings: Settings) -> None:
    from bastion.cli.common import err_console
    from bastion.settings.references import missing_secrets

    problems = missing_secrets(settings, os.environ)
    if problems:
        err_console.print("[red]error:[/red] " + "; ".join(problems))
        raise typer.Exit(2)


@app.command()
def serve(
    config: Path | None = ConfigOption,
    host: str | None = typer.Option(None, help="bind address (default 127.0.0.1)"),
    port: int | None = typer.Option(None, help="port (default 8000)"),
    workers: int | None = typer.Option(None, help="worker processes"),
    ssl_certfile: Path | None = typer.Option(None, exists=True),
    ssl_keyfile: Path | None = typer.Option(None, exists=True),
) -> None:
    """Prepare the data dir (migrations, demo models, first admin key) and start the gateway
    (local: this is the server every other command talks to)."""
    from bastion.cli.malloc import limit_malloc_arenas

    limit_malloc_arenas()  # the serving process (and its workers) inherit the cap
    from bastion.cli.structlog_import import import_structlog_lean

    import_structlog_lean()  # before anything logs, as in the serving process
    from bastion.bootstrap import prepare

    # Workers rebuild settings from the environment, so CLI choices travel through it.
    if config is not None:
        os.environ["BASTION_CONFIG"] = str(config.resolve())
    for var, value in (
        ("BASTION_HOST", host),
        ("BASTION_PORT", port),
        ("BASTION_WORKERS", workers),
        ("BASTION_SERVER__SSL_CERTFILE", ssl_certfile),
        ("BASTION_SERVER__SSL_KEYFILE", ssl_keyfile),
    ):
        if value is not None:
            os.environ[var] = str(value)
    settings = settings_from(None)
    _refuse_missing_secrets(settings)  # before the banner, in one line naming the key
    from bastion.cli.audit import check_keys

    check_keys(settings)  # a bad encryption key stops here, in one clear line
    os.environ["BASTION_DATA_DIR"] = str(settings.data_dir.resolve())
    if settings.server.workers > 1:  # /metrics sums over the workers
        from bastion.observability.metrics import fresh_multiprocess_dir

        metrics_dir = str(fresh_multiprocess_dir(settings.data_dir))
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir
        os.environ["BASTION_OBSERVABILITY__MULTIPROCESS_DIR"] = metrics_dir
    run(prepare(settings, console.print))
    _announce(settings)
    from bastion.cli.serve_main import hand_over

    hand_over()  # the same process serves, without Typer, Click and Rich (cli/serve_main.py)


@db_app.command("upgrade")
def db_upgrade(config: Path | None = ConfigOption) -> None:
    """Apply every pending migration to the configured database (local, no server needed)."""
    from bastion.store import migrate

    settings = settings_from(config)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    run(migrate.upgrade(settings.resolved_database_url))
    console.print(f"database at head: {settings.resolved_database_url.split('@')[-1]}")


def main() -> None:
    app()
