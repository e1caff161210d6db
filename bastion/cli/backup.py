"""`bastion backup` and `bastion restore`: run WITHOUT a server (they open the database
themselves, as a recovery must work when nothing else does). docs/backup.md."""

from __future__ import annotations

import getpass
import json
from pathlib import Path
from typing import Any

import typer

from bastion.cli.client import AdminClient, KeyOption
from bastion.cli.common import ConfigOption, console, err_console, run, settings_from


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def backup(
    out: Path = typer.Option(..., "--out", "-o", help="directory to write the backup under"),
    portable: bool = typer.Option(
        False, "--portable", help="a logical dump (JSON lines) restorable into either database"
    ),
    config: Path | None = ConfigOption,
) -> None:
    """Back up the database and the artifact store, with a manifest of sha256 hashes.

    Runs without a server (it opens the configured database itself) and is safe while one
    serves: SQLite through its online backup API, PostgreSQL through pg_dump (or --portable).
    """
    from bastion.backup import make_backup

    settings = settings_from(config)
    root, manifest, note = run(make_backup(settings, out, portable=portable, actor=_actor()))
    if note:
        err_console.print(f"note: {note}")
    size = manifest.database.bytes + sum(a.bytes for a in manifest.artifacts)
    console.print(
        f"backup {manifest.id}: {manifest.method}, {len(manifest.artifacts)} artifacts, "
        f"{size} bytes, audit head {manifest.audit_head[0] if manifest.audit_head else '-'}"
    )
    console.print(f"  {root}")


def restore(
    source: Path = typer.Argument(..., exists=True, file_okay=False, help="a backup directory"),
    data_dir: Path | None = typer.Option(None, help="restore into this (new) data dir"),
    database_url: str | None = typer.Option(None, help="restore into this (empty) database"),
    report_url: str | None = typer.Option(
        None, help="also record the tested restore on this running server (for `check`)"
    ),
    key: str | None = KeyOption,
    as_json: bool = typer.Option(False, "--json", help="print the report as JSON"),
    config: Path | None = ConfigOption,
) -> None:
    """Restore a backup into an EMPTY database and data dir, check every hash, and prove it:
    the audit chain must verify up to the head the backup recorded (exit 1 if not).

    Runs without a server. Restore into a scratch place to test your backups; --report-url
    records that drill on the production server, where `bastion check` looks for it.
    """
    from bastion.backup import restore_backup

    overrides: dict[str, Any] = {}
    if data_dir is not None:
        overrides["data_dir"] = data_dir
    if database_url is not None:
        overrides["database_url"] = database_url
    settings = settings_from(config, **overrides)
    report = run(restore_backup(source, settings, actor=_actor()))
    if as_json:
        console.print_json(json.dumps(report.to_dict(), default=str))
    else:
        state = "[green]verified[/green]" if report.audit_ok else "[red]BROKEN[/red]"
        console.print(
            f"restored {report.backup_id} ({report.method}) into {report.target}: "
            f"{report.artifacts} artifacts; audit chain {state} ({report.audit_checked} records)"
        )
        if report.audit_problem:
            console.print(f"  {report.audit_problem}")
    if report_url is not None:
        client = AdminClient.resolve(report_url, key, None)
        record = report.record
        body = {k: record[k] for k in ("kind", "subject", "passed", "summary", "details")}
        saved = client.post("/v1/admin/operations/records", body)
        console.print(f"recorded on {client.base_url} as operation record {saved['id']}")
    if not report.audit_ok:
        raise typer.Exit(1)
