"""`bastion keys …`: create, list, rotate and revoke API keys through the server's admin API.

Only ``keys create --offline`` writes to the database itself: the first admin key, or a new
one when every admin key is lost, with no server to ask.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import typer

from bastion.cli.client import AdminClient, KeyOption, UrlOption
from bastion.cli.common import (
    OFFLINE_NOTE,
    ConfigOption,
    console,
    err_console,
    parse_pairs,
    run,
    settings_from,
    table,
)

app = typer.Typer(
    rich_markup_mode=None,
    help="API keys: create (shown once), list, rotate, revoke (through the server; admins).",
    no_args_is_help=True,
)

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
    offline: bool = typer.Option(
        False, help=f"no server (the first admin key, or a lost one): {OFFLINE_NOTE}"
    ),
    url: str | None = UrlOption,
    key: str | None = KeyOption,
    config: Path | None = ConfigOption,
) -> None:
    """Create a key; its secret is printed once and never stored."""
    expires_at = parse_expiry(expires)
    body: dict[str, Any] = {
        "name": name,
        "roles": role,
        "deployments": deployment or None,
        "tenant": tenant,
        "team": team,
        "expires_at": expires_at.isoformat() if expires_at else None,
        "metadata": parse_pairs(meta, "--meta") or None,
    }
    if offline:
        secret, key_id, roles = _create_offline(body, expires_at, config)
    else:
        done = AdminClient.resolve(url, key, config).post("/v1/admin/keys", body)
        secret, key_id, roles = done["key"], done["data"]["id"], done["data"]["roles"]
    console.print(
        f"created {key_id} ({', '.join(roles)}). Store the secret now, it is not shown again:"
    )
    console.print(secret, markup=False, highlight=False)


def _create_offline(
    body: dict[str, Any], expires_at: datetime | None, config: Path | None
) -> tuple[str, str, list[str]]:
    """Straight into the configured database, audited as a command-line change."""
    from bastion.cli.audit import audit_admin
    from bastion.cli.common import opened

    settings = settings_from(config)

    async def go() -> tuple[str, str, list[str]]:
        async with opened(settings) as (_, keys):
            secret, made = await keys.create(
                body["name"],
                body["roles"],
                deployments=body["deployments"],
                tenant=body["tenant"],
                team=body["team"],
                expires_at=expires_at,
                metadata=body["metadata"],
            )
        details = {"name": made.name, "roles": list(made.roles), "tenant": made.tenant}
        await audit_admin(settings, None, "key.created", made.id, details)
        return secret, made.id, list(made.roles)

    return run(go())


def _state(key: dict[str, Any], now: datetime) -> str:
    if key["revoked_at"] is not None:
        return "revoked"
    expires = key["expires_at"]
    moment = datetime.fromisoformat(expires) if expires else None
    if moment is not None and (moment if moment.tzinfo else moment.replace(tzinfo=UTC)) <= now:
        return "expired"
    if key["replaced_by"]:
        return f"rotated → {key['replaced_by']}"
    return "active"


@app.command("list")
def list_keys(
    tenant: str | None = typer.Option(None, help="only this tenant's keys"),
    team: str | None = typer.Option(None, help="only this team's keys"),
    url: str | None = UrlOption,
    key: str | None = KeyOption,
    config: Path | None = ConfigOption,
) -> None:
    """Every key (never its secret): grants, team, expiry and state."""
    found = AdminClient.resolve(url, key, config).get("/v1/admin/keys", tenant=tenant, team=team)
    shown = table(
        "id", "prefix", "name", "tenant", "team", "roles", "deployments", "expires", "state"
    )
    now = datetime.now(UTC)
    for k in found["data"]:
        deployments = k["deployments"]
        shown.add_row(
            k["id"],
            k["prefix"] + "…",
            k["name"],
            k["tenant"],
            k["team"] or "",
            ",".join(k["roles"]),
            ",".join(deployments) if deployments is not None else "all",
            str(k["expires_at"])[:19] if k["expires_at"] else "never",
            _state(k, now),
        )
    console.print(shown)


@app.command()
def rotate(
    key_id: str,
    grace: str = typer.Option("24h", help="how long the old secret keeps working"),
    url: str | None = UrlOption,
    key: str | None = KeyOption,
    config: Path | None = ConfigOption,
) -> None:
    """Issue a new secret with the same grants; the old one expires after the grace period."""
    grace_s = parse_duration(grace, "--grace")
    client = AdminClient.resolve(url, key, config)
    done = client.post(f"/v1/admin/keys/{key_id}/rotate", {"grace_s": grace_s})
    console.print(
        f"rotated {key_id} → {done['data']['id']}; the old secret works for {grace} more. "
        "Store the new secret now, it is not shown again:"
    )
    console.print(done["key"], markup=False, highlight=False)


@app.command()
def revoke(
    key_id: str,
    url: str | None = UrlOption,
    key: str | None = KeyOption,
    config: Path | None = ConfigOption,
) -> None:
    """Revoke a key; servers stop accepting it within five seconds."""
    AdminClient.resolve(url, key, config).delete(f"/v1/admin/keys/{key_id}")
    console.print(f"revoked {key_id}")
