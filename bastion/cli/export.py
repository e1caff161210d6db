"""`bastion export …`: Prometheus alerting rules and a Grafana dashboard from the config.

Local: these read the static config file (no server needed), like the rules they mirror.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from bastion.cli.common import ConfigOption, console, err_console, settings_from

if TYPE_CHECKING:
    from bastion.settings import Settings
    from bastion.settings.alerts import AlertRuleSettings

app = typer.Typer(
    rich_markup_mode=None,
    help="Exports for teams that run their own Prometheus and Grafana (from the config file, "
    "no server needed).",
    no_args_is_help=True,
)

OutputOption = typer.Option(None, "--output", "-o", help="write to this file (default: stdout)")


def _rules(settings: Settings) -> list[AlertRuleSettings]:
    from bastion.observability.alerts.rules import recommended_rules
    from bastion.settings.alerts import runbook_url

    if settings.alerts.rules:
        return list(settings.alerts.rules)
    err_console.print("note: no alerts.rules in the config; exporting the recommended starting set")
    base = settings.alerts.runbook_base_url
    return [
        r.model_copy(update={"runbook_url": runbook_url(r.kind, base)}) for r in recommended_rules()
    ]


def _write(text: str, output: Path | None) -> None:
    if output is None:
        console.file.write(text if text.endswith("\n") else text + "\n")
        return
    output.write_text(text, encoding="utf-8")
    err_console.print(f"wrote {output}")


@app.command("prometheus-rules")
def export_prometheus_rules(
    config: Path | None = ConfigOption,
    output: Path | None = OutputOption,
    group: str = typer.Option("bastion", help="the rule group's name"),
) -> None:
    """A Prometheus rules file mirroring the configured alert rules over Bastion's metrics."""
    from bastion.observability.alerts.exports import prometheus_rules

    settings = settings_from(config)
    _write(prometheus_rules(_rules(settings), group), output)


@app.command("grafana-dashboard")
def export_grafana_dashboard(
    config: Path | None = ConfigOption,
    output: Path | None = OutputOption,
    title: str = typer.Option("Bastion", help="the dashboard's title"),
) -> None:
    """A Grafana dashboard (JSON) over Bastion's metrics, with the rules' thresholds drawn."""
    import orjson

    from bastion.observability.alerts.exports import grafana_dashboard

    settings = settings_from(config)
    dashboard = grafana_dashboard(_rules(settings), title)
    _write(orjson.dumps(dashboard, option=orjson.OPT_INDENT_2).decode(), output)
