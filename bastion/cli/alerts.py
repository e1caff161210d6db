"""`bastion alerts …`: list and acknowledge alerts, and send a test notification, through the
server's alerts API (operators; the acknowledgement is audited under the key's name)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from bastion.cli.client import AdminClient, KeyOption, UrlOption
from bastion.cli.common import ConfigOption, console, dump, err_console, table

app = typer.Typer(
    rich_markup_mode=None,
    help="Alerts: history, acknowledgement, webhook tests.",
    no_args_is_help=True,
)


def _table(alerts: list[dict[str, Any]]) -> Any:
    shown = table("id", "state", "severity", "rule", "deployment", "fired", "resolved", "summary")
    for a in alerts:
        shown.add_row(
            str(a["id"]),
            a["state"] + (" (acked)" if a["acked_at"] else ""),
            a["severity"],
            a["rule"],
            a["deployment"] or "-",
            a["fired_at"][:19],
            a["resolved_at"][:19] if a["resolved_at"] else "-",
            a["summary"],
        )
    return shown


@app.command("list")
def list_alerts(
    state: str | None = typer.Option(None, help="firing | resolved (default: both)"),
    deployment: str | None = typer.Option(None),
    rule: str | None = typer.Option(None),
    limit: int = typer.Option(50, min=1, max=500),
    as_json: bool = typer.Option(False, "--json", help="print JSON instead of a table"),
    url: str | None = UrlOption,
    key: str | None = KeyOption,
    config: Path | None = ConfigOption,
) -> None:
    """Alerts newest first: what fired, where, and when it resolved."""
    if state not in (None, "firing", "resolved"):
        err_console.print("[red]error:[/red] --state is 'firing' or 'resolved'")
        raise typer.Exit(2)
    found = AdminClient.resolve(url, key, config).get(
        "/v1/admin/alerts", state=state, deployment=deployment, rule=rule, limit=limit
    )
    alerts = found["data"]
    if as_json:
        dump(alerts)
        return
    if not alerts:
        console.print("no alerts")
        return
    console.print(_table(alerts))


@app.command("ack")
def ack(
    alert_id: int = typer.Argument(..., help="the alert's id (see `bastion alerts list`)"),
    url: str | None = UrlOption,
    key: str | None = KeyOption,
    config: Path | None = ConfigOption,
) -> None:
    """Acknowledge a firing alert (someone is on it); recorded under the key's name."""
    done = AdminClient.resolve(url, key, config).post(f"/v1/admin/alerts/{alert_id}/ack")
    console.print(f"alert {alert_id} acknowledged by {done['acked_by']}")


@app.command("test")
def test_webhooks(
    webhook: str | None = typer.Option(None, help="only this webhook (by name)"),
    url: str | None = UrlOption,
    key: str | None = KeyOption,
    config: Path | None = ConfigOption,
) -> None:
    """Have the server send a test notification to its configured webhooks and say which
    took it (exit 1 when one failed)."""
    done = AdminClient.resolve(url, key, config).post("/v1/admin/alerts/test", webhook=webhook)
    for result in done["data"]:
        shown = "delivered" if result["delivered"] else "FAILED (see the server's log)"
        console.print(f"{result['webhook']}: {shown}")
    if not done["ok"]:
        raise typer.Exit(1)
