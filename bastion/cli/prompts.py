"""`bastion prompts register|list|show|history|promote|alias|rollback|eval|approve`.

Clients of the server's prompt API (``/v1/admin/prompts``): every change meets the server's
authorization, promotion gates and audit. ``register`` reads a ``prompt.yaml`` here and sends
it; the server checks it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from bastion.cli.client import AdminClient, KeyOption, UrlOption
from bastion.cli.common import ConfigOption, console, dump, err_console, table

app = typer.Typer(
    rich_markup_mode=None,
    help="Prompt templates: versions, aliases, gated promotion and rollback (through the server).",
)

_BASE = "/v1/admin/prompts"
JsonOption = typer.Option(False, "--json", help="print the server's answer as JSON")
AliasOption = typer.Option("production", "--alias", "-a", help="the alias to move")
ReasonOption = typer.Option("", "--reason", "-r", help="why (kept in the audit record)")
OverrideOption = typer.Option(
    False, "--override", help="admins only, with --reason: pass failed promotion gates"
)


def _client(url: str | None, key: str | None, config: Path | None) -> AdminClient:
    return AdminClient.resolve(url, key, config)


def _template(path: Path) -> dict[str, Any]:
    import yaml

    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        err_console.print(f"[red]error:[/red] cannot read {path}: {exc}")
        raise typer.Exit(2) from exc
    if not isinstance(doc, dict):
        err_console.print(f"[red]error:[/red] {path}: a prompt file is a YAML mapping")
        raise typer.Exit(2)
    return doc


@app.command("register")
def register(
    name: str,
    file: Path = typer.Argument(..., help="the prompt.yaml: model, messages, variables…"),
    tenant: str | None = typer.Option(None, help="admins: the owning tenant of a new prompt"),
    shared: bool = typer.Option(False, help="admins: a new prompt shared by every tenant"),
    url: str | None = UrlOption,
    key: str | None = KeyOption,
    config: Path | None = ConfigOption,
) -> None:
    """Register FILE as the next immutable version of prompt NAME."""
    body: dict[str, Any] = {"template": _template(file), "shared": shared}
    if tenant is not None:
        body["tenant"] = tenant
    made = _client(url, key, config).post(f"{_BASE}/{name}/versions", body)["data"]
    console.print(f"registered prompt {made['name']} version {made['version']}")


@app.command("list")
def list_prompts(
    as_json: bool = JsonOption,
    url: str | None = UrlOption,
    key: str | None = KeyOption,
    config: Path | None = ConfigOption,
) -> None:
    """Every prompt this key may see, with its newest version and aliases."""
    found = _client(url, key, config).get(_BASE)["data"]
    if as_json:
        dump(found)
        return
    shown = table("prompt", "latest", "aliases", "tenant")
    for p in found:
        aliases = ", ".join(f"{a} → {v}" for a, v in sorted(p["aliases"].items())) or "–"
        shown.add_row(p["name"], str(p["latest_version"]), aliases, p["tenant"] or "shared")
    console.print(shown)


@app.command("show")
def show(
    name: str,
    version: str | None = typer.Argument(None, help="a version, 'latest' or an alias"),
    url: str | None = UrlOption,
    key: str | None = KeyOption,
    config: Path | None = ConfigOption,
) -> None:
    """A prompt's versions and aliases, or one version's template (as JSON)."""
    client = _client(url, key, config)
    if version is None:
        dump(client.get(f"{_BASE}/{name}"))
    else:
        dump(client.get(f"{_BASE}/{name}/versions/{version}"))


@app.command("history")
def history(
    name: str,
    alias: str | None = typer.Option(None, "--alias", "-a", help="one alias only"),
    url: str | None = UrlOption,
    key: str | None = KeyOption,
    config: Path | None = ConfigOption,
) -> None:
    """Every alias change of a prompt, oldest first."""
    params = {"alias": alias} if alias else {}
    events = _client(url, key, config).get(f"{_BASE}/{name}/history", **params)["data"]
    shown = table("at", "alias", "action", "version", "previous", "actor", "reason")
    for e in events:
        shown.add_row(
            str(e["at"]),
            e["alias"],
            e["action"],
            str(e["version"]),
            str(e["previous_version"]),
            e["actor"],
            e["reason"] or "",
        )
    console.print(shown)


def _moved(event: dict[str, Any]) -> None:
    console.print(
        f"prompt {event['name']}: {event['alias']} → {event['version']} "
        f"(was {event['previous_version']}; {event['action']})"
    )
    for gate in event.get("overridden_gates", []):
        console.print(f"[yellow]overridden gate:[/yellow] {gate.get('message')}")


@app.command("promote")
def promote(
    name: str,
    version: int,
    alias: str = AliasOption,
    reason: str = ReasonOption,
    override: bool = OverrideOption,
    url: str | None = UrlOption,
    key: str | None = KeyOption,
    config: Path | None = ConfigOption,
) -> None:
    """Point ALIAS (default production) at VERSION, through the alias's promotion gates."""
    body = {"version": version, "alias": alias, "reason": reason, "override": override}
    _moved(_client(url, key, config).post(f"{_BASE}/{name}/promote", body))


@app.command("alias")
def set_alias(
    name: str,
    alias: str,
    version: int,
    reason: str = ReasonOption,
    override: bool = OverrideOption,
    url: str | None = UrlOption,
    key: str | None = KeyOption,
    config: Path | None = ConfigOption,
) -> None:
    """Point ALIAS at VERSION (gated like a promotion)."""
    body = {"version": version, "reason": reason, "override": override}
    _moved(_client(url, key, config).put(f"{_BASE}/{name}/aliases/{alias}", body))


@app.command("rollback")
def rollback(
    name: str,
    alias: str = AliasOption,
    reason: str = ReasonOption,
    url: str | None = UrlOption,
    key: str | None = KeyOption,
    config: Path | None = ConfigOption,
) -> None:
    """Point ALIAS back at the version it held before (never gated)."""
    body = {"alias": alias, "reason": reason}
    _moved(_client(url, key, config).post(f"{_BASE}/{name}/rollback", body))


@app.command("eval")
def run_eval(
    ref: str = typer.Argument(..., help="NAME@VERSION (a number, 'latest' or an alias)"),
    eval_set: str = typer.Option(..., "--set", help="SET or SET@VERSION"),
    scorers: list[str] = typer.Option([], "--scorer", "-s", help="e.g. groundedness, regex:…"),
    model: str | None = typer.Option(None, "--model", help="run on another model group"),
    url: str | None = UrlOption,
    key: str | None = KeyOption,
    config: Path | None = ConfigOption,
) -> None:
    """Run a prompt version on an eval set on the server; the report feeds its gates."""
    name, _, version = ref.partition("@")
    body: dict[str, Any] = {"version": version or "latest", "set": eval_set, "scorers": scorers}
    if model is not None:
        body["model"] = model
    report = _client(url, key, config).post(f"{_BASE}/{name}/evaluations", body)["data"]
    console.print(f"report {report['id']}: prompt {name} v{report['version']} on {eval_set}")
    for metric, value in sorted(report["metrics"].items()):
        console.print(f"  {metric}: {value:.4g}")


@app.command("approve")
def approve(
    name: str,
    version: int,
    comment: str = typer.Option("", "--comment", "-m"),
    url: str | None = UrlOption,
    key: str | None = KeyOption,
    config: Path | None = ConfigOption,
) -> None:
    """Approve a prompt version (an approver key other than the one that registered it)."""
    body = {"comment": comment}
    _client(url, key, config).post(f"{_BASE}/{name}/versions/{version}/approvals", body)
    console.print(f"approved prompt {name} v{version}")
