"""The `bastion` command: serve, db, models, keys."""

from __future__ import annotations

import os
from pathlib import Path

import typer

from bastion.cli import actions as actions_cli
from bastion.cli import alerts as alerts_cli
from bastion.cli import audit as audit_cli
from bastion.cli import backfill as backfill_cli
from bastion.cli import backup as backup_cli
from bastion.cli import batch as batch_cli
from bastion.cli import bench as bench_cli
from bastion.cli import chaos, export, keys, models
from bastion.cli import check as check_cli
from bastion.cli import costs as costs_cli
from bastion.cli import data as data_cli
from bastion.cli import drift as drift_cli
from bastion.cli import evaluation as eval_cli
from bastion.cli import features as features_cli
from bastion.cli import guards as guards_cli
from bastion.cli import quarantine as quarantine_cli
from bastion.cli import review as review_cli
from bastion.cli import rollouts as rollouts_cli
from bastion.cli.common import ConfigOption, console, run, settings_from
from bastion.settings import Settings

app = typer.Typer(help="Bastion: the production layer for AI models.", no_args_is_help=True)
app.add_typer(models.app, name="models")
app.add_typer(keys.app, name="keys")
app.add_typer(costs_cli.app, name="costs")
app.add_typer(guards_cli.app, name="guards")
app.add_typer(chaos.app, name="chaos")
app.add_typer(alerts_cli.app, name="alerts")
app.add_typer(audit_cli.app, name="audit")
app.add_typer(export.app, name="export")
app.add_typer(review_cli.app, name="review")
app.add_typer(drift_cli.app, name="drift")
app.add_typer(eval_cli.app, name="eval")
app.add_typer(rollouts_cli.shadow_app, name="shadow")
app.add_typer(rollouts_cli.canary_app, name="canary")
app.add_typer(rollouts_cli.ab_app, name="ab")
app.command("check")(check_cli.check)
app.command("bench")(bench_cli.bench)
app.command("backup")(backup_cli.backup)
app.command("restore")(backup_cli.restore)
app.add_typer(batch_cli.app, name="batch")
app.add_typer(quarantine_cli.app, name="quarantine")
app.add_typer(data_cli.app, name="data")
app.command("backfill")(backfill_cli.backfill)
app.add_typer(features_cli.app, name="features")
app.add_typer(actions_cli.app, name="actions")
db_app = typer.Typer(help="Database migrations.", no_args_is_help=True)
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
    """Prepare the data dir (migrations, demo models, first admin key) and start the gateway."""
    import uvicorn

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
    audit_cli.check_keys(settings)  # a bad encryption key stops here, in one clear line
    os.environ["BASTION_DATA_DIR"] = str(settings.data_dir.resolve())
    if settings.server.workers > 1:  # /metrics sums over the workers
        from bastion.observability.metrics import fresh_multiprocess_dir

        metrics_dir = str(fresh_multiprocess_dir(settings.data_dir))
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir
        os.environ["BASTION_OBSERVABILITY__MULTIPROCESS_DIR"] = metrics_dir
    run(prepare(settings, console.print))
    _announce(settings)
    from bastion.cli.server import run as run_server

    server = settings.server
    uv_config = uvicorn.Config(
        "bastion.app:app_from_environment",
        factory=True,
        host=server.host,
        port=server.port,
        workers=server.workers,
        loop="uvloop",
        http="httptools",
        access_log=False,
        log_level="warning",
        timeout_graceful_shutdown=int(server.graceful_timeout_s),
        timeout_worker_healthcheck=server.worker_healthcheck_s,
        ssl_certfile=str(server.ssl_certfile) if server.ssl_certfile else None,
        ssl_keyfile=str(server.ssl_keyfile) if server.ssl_keyfile else None,
    )
    run_server(uv_config, server.drain_delay_s)  # readiness 503, drain delay, then graceful stop


@db_app.command("upgrade")
def db_upgrade(config: Path | None = ConfigOption) -> None:
    """Apply every pending migration to the configured database."""
    from bastion.store import migrate

    settings = settings_from(config)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    run(migrate.upgrade(settings.resolved_database_url))
    console.print(f"database at head: {settings.resolved_database_url.split('@')[-1]}")


def main() -> None:
    app()
