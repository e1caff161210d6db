"""`bastion keys …`: create, list, rotate and revoke API keys (straight against the database)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from bastion.cli.audit import audit_admin
from bastion.cli.common import (
    ConfigOption,
    console,
    err_console,
    opened,
    parse_pairs,
    run,
    settings_from,
)

app = typer.Typer(help="API keys: create (shown once), list, rotate, revoke.", no_args_is_help=True)

_DURATION = re.compile(r"^(\d+(?:\.\d+)?)([smhdw])$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse_duration(text: str, what: str) -> float:
    """``90s``, ``15m``, ``12h``, ``30d``, ``2w`` → seconds."""
    match = _DURATION.match(text.strip())
    if not match:
        err_console.print(
            f"[red]error:[/red] {what}: expected a duration like 90s, 15m, 12h, 30d or 2w, "
            f"got {text!r}"
        )
        raise typer.Exit(2)
    return float(match.group(1)) * _UNITS[match.group(2)]


def parse_expiry(text: str | None) -> datetime | None:
    """A duration from now (``30d``) or an ISO date/time (``2026-01-31``, UTC if no zone)."""
    if text is None:
        return None
    if _DURATION.match(text.strip()):
        return datetime.now(UTC) + timedelta(seconds=parse_duration(text, "--expires"))
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        err_console.print(
            f"[red]error:[/red] --expires: expected a duration (30d) or an ISO date, got {text!r}"
        )
        raise typer.Exit(2) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@app.command()
def create(
    name: str = typer.Option(..., help="who or what the key is for"),
    role: list[str] = typer.Option(
        ["client"], help="admin | operator | approver | reviewer | client"
    ),
    deployment: list[str] = typer.Option([], help="restrict to these deployments (default: all)"),
    tenant: str = typer.Option("default"),
    team: str | None = typer.Option(None, help="a team within the tenant"),
    expires: str | None = typer.Option(None, help="e.g. 30d, 12h or 2026-01-31"),
    meta: list[str] = typer.Option([], help="metadata as key=value (repeatable)"),
    config: Path | None = ConfigOption,
) -> None:
    """Create a key; its secret is printed once and never stored."""
    settings = settings_from(config)
    expires_at = parse_expiry(expires)
    metadata = parse_pairs(meta, "--meta")

    async def go() -> Any:
        async with opened(settings) as (_, keys):
            secret, key = await keys.create(
                name,
                role,
                deployments=deployment or None,
                tenant=tenant,
                team=team,
                expires_at=expires_at,
                metadata=metadata or None,
            )
        details = {"name": name, "roles": list(key.roles), "tenant": tenant}
        await audit_admin(settings, None, "key.created", key.id, details)
        return secret, key

    secret, key = run(go())
    console.print(
        f"created {key.id} ({', '.join(key.roles)}). Store the secret now, it is not shown again:"
    )
    console.print(secret, markup=False, highlight=False)


def _state(key: Any, now: datetime) -> str:
    if key.revoked_at is not None:
        return "revoked"
    if key.expires_at is not None and key.expires_at <= now:
        return "expired"
    if key.replaced_by:
        return f"rotated → {key.replaced_by}"
    return "active"


@app.command("list")
def list_keys(
    tenant: str | None = typer.Option(None, help="only this tenant's keys"),
    team: str | None = typer.Option(None, help="only this team's keys"),
    config: Path | None = ConfigOption,
) -> None:
    """Every key (never its secret): grants, team, expiry and state."""
    settings = settings_from(config)

    async def go() -> Any:
        async with opened(settings) as (_, keys):
            return await keys.list(tenant=tenant, team=team)

    table = Table(
        "id", "prefix", "name", "tenant", "team", "roles", "deployments", "expires", "state"
    )
    now = datetime.now(UTC)
    for k in run(go()):
        table.add_row(
            k.id,
            k.prefix + "…",
            k.name,
            k.tenant,
            k.team or "",
            ",".join(k.roles),
            ",".join(k.deployments) if k.deployments is not None else "all",
            str(k.expires_at)[:19] if k.expires_at else "never",
            _state(k, now),
        )
    console.print(table)


@app.command()
def rotate(
    key_id: str,
    grace: str = typer.Option("24h", help="how long the old secret keeps working"),
    config: Path | None = ConfigOption,
) -> None:
    """Issue a new secret with the same grants; the old one expires after the grace period."""
    settings = settings_from(config)
    grace_s = parse_duration(grace, "--grace")

    async def go() -> Any:
        async with opened(settings) as (_, keys):
            secret, key = await keys.rotate(key_id, grace_s=grace_s)
        details = {"replaces": key_id, "grace_s": grace_s}
        await audit_admin(settings, None, "key.rotated", key.id, details)
        return secret, key

    secret, key = run(go())
    console.print(
        f"rotated {key_id} → {key.id}; the old secret works for {grace} more. "
        "Store the new secret now, it is not shown again:"
    )
    console.print(secret, markup=False, highlight=False)


@app.command()
def revoke(key_id: str, config: Path | None = ConfigOption) -> None:
    """Revoke a key; servers stop accepting it within five seconds."""
    settings = settings_from(config)

    async def go() -> None:
        async with opened(settings) as (_, keys):
            await keys.revoke(key_id)
        await audit_admin(settings, None, "key.revoked", key_id, {})

    run(go())
    console.print(f"revoked {key_id}")
