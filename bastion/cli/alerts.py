"""`bastion alerts …`: list and acknowledge alerts, and send a test notification."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import typer
from rich.table import Table

from bastion.cli.common import (
    ConfigOption,
    console,
    dump,
    err_console,
    opened_db,
    run,
    settings_from,
)
from bastion.observability.alerts import Alert, Notification, Notifier
from bastion.settings import Settings
from bastion.store.alerts_tables import SqlAlertHistory

app = typer.Typer(help="Alerts: history, acknowledgement, webhook tests.", no_args_is_help=True)


@contextlib.asynccontextmanager
async def _history(settings: Settings) -> AsyncIterator[SqlAlertHistory]:
    async with opened_db(settings) as db:
        yield SqlAlertHistory(db)


def _table(alerts: list[Alert]) -> Table:
    table = Table("id", "state", "severity", "rule", "deployment", "fired", "resolved", "summary")
    for a in alerts:
        table.add_row(
            str(a.id),
            a.state + (" (acked)" if a.acked_at else ""),
            a.severity,
            a.rule,
            a.deployment or "-",
            a.fired_at.isoformat(timespec="seconds"),
            a.resolved_at.isoformat(timespec="seconds") if a.resolved_at else "-",
            a.summary,
        )
    return table


@app.command("list")
def list_alerts(
    config: Path | None = ConfigOption,
    state: str | None = typer.Option(None, help="firing | resolved (default: both)"),
    deployment: str | None = typer.Option(None),
    rule: str | None = typer.Option(None),
    limit: int = typer.Option(50, min=1, max=1000),
    as_json: bool = typer.Option(False, "--json", help="print JSON instead of a table"),
) -> None:
    """Alerts newest first: what fired, where, and when it resolved."""
    if state not in (None, "firing", "resolved"):
        err_console.print("[red]error:[/red] --state is 'firing' or 'resolved'")
        raise typer.Exit(2)
    settings = settings_from(config)

    async def main() -> list[Alert]:
        async with _history(settings) as history:
            return await history.history(
                state=state,  # type: ignore[arg-type]
                deployment=deployment,
                rule=rule,
                limit=limit,
            )

    alerts = run(main())
    if as_json:
        dump([a.to_dict() for a in alerts])
        return
    if not alerts:
        console.print("no alerts")
        return
    console.print(_table(alerts))


@app.command("ack")
def ack(
    alert_id: int = typer.Argument(..., help="the alert's id (see `bastion alerts list`)"),
    config: Path | None = ConfigOption,
    actor: str = typer.Option("cli", help="recorded as who acknowledged it"),
) -> None:
    """Acknowledge a firing alert (someone is on it)."""
    settings = settings_from(config)

    async def main() -> Alert | None:
        async with _history(settings) as history:
            return await history.ack(alert_id, actor=actor, at=datetime.now(UTC))

    if run(main()) is None:
        err_console.print(
            f"[red]error:[/red] alert {alert_id} is not firing (unknown or already resolved); "
            "see `bastion alerts list --state firing`"
        )
        raise typer.Exit(1)
    console.print(f"alert {alert_id} acknowledged by {actor}")


@app.command("test")
def test_webhooks(
    config: Path | None = ConfigOption,
    webhook: str | None = typer.Option(None, help="only this webhook (by name)"),
) -> None:
    """Send a test notification to the configured webhooks and say which took it."""
    settings = settings_from(config)
    hooks = [h for h in settings.alerts.webhooks if webhook in (None, h.name)]
    if not hooks:
        err_console.print("[red]error:[/red] no such webhook in alerts.webhooks")
        raise typer.Exit(2)
    now = datetime.now(UTC)
    alert = Alert(
        id=0,
        dedupe_key="test",
        rule="test",
        kind="event",
        source="event",
        deployment=None,
        severity="info",
        summary="a test notification from `bastion alerts test`",
        details={},
        fired_at=now,
        last_seen_at=now,
        last_seen_by="cli",
    )
    notifier = Notifier(
        attempts=1, timeout_s=settings.alerts.webhook_timeout_s, max_pending=len(hooks)
    )

    async def main() -> list[bool]:
        try:
            return [await notifier.deliver(h, Notification("firing", alert)) for h in hooks]
        finally:
            await notifier.aclose()

    results = run(main())
    for hook, ok in zip(hooks, results, strict=True):
        console.print(f"{hook.name}: {'delivered' if ok else 'FAILED (see the log line above)'}")
    if not all(results):
        raise typer.Exit(1)
