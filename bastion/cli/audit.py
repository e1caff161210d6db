"""`bastion audit …`: verify the chain, export it, re-encrypt payloads, make keys."""

from __future__ import annotations

import contextlib
import getpass
import sys
from collections.abc import AsyncIterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import typer

from bastion.cli.common import ConfigOption, console, err_console, opened_db, run, settings_from
from bastion.errors import ConfigError
from bastion.observability.audit import (
    AuditLog,
    VerifyReport,
    export_jsonl,
    record_from_json,
    rotate_payloads,
    verify_log,
    verify_records,
)
from bastion.security.encryption import Encryptor, generate_key, load_encryptor
from bastion.settings import Settings
from bastion.store.audit_tables import SqlAuditStore

app = typer.Typer(
    help="The tamper-evident audit log: verify, export, rotate-key, gen-key.",
    no_args_is_help=True,
)


@contextlib.asynccontextmanager
async def opened_store(settings: Settings) -> AsyncIterator[SqlAuditStore]:
    async with opened_db(settings) as db:
        store = SqlAuditStore(db, durability=settings.audit.durability)
        try:
            yield store
        finally:
            await store.aclose()


async def audit_admin(
    settings: Settings,
    actor: str | None,
    action: str,
    target: str,
    details: Mapping[str, Any],
) -> None:
    """Record an admin change made from the command line (``models …``, ``keys …``).

    The actor is ``cli:<--actor>`` when one was given, else ``cli:<OS user>``.
    """
    if not settings.audit.enabled:
        return
    who = actor if actor and actor != "cli" else _os_user()
    async with opened_store(settings) as store:
        audit = AuditLog(store, settings.audit)
        try:
            await audit.admin(f"cli:{who}", action, target, details)
        finally:
            await audit.aclose()


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (containers) and no LOGNAME/USER
        return "unknown"


def check_keys(settings: Settings) -> None:
    """Stop ``bastion serve`` before it starts workers if the encryption keys are unusable."""
    try:
        load_encryptor(settings.encryption)
    except ConfigError as exc:
        err_console.print(f"[red]error (config_error):[/red] {exc.message}")
        raise typer.Exit(2) from exc


def _anchor(raw: str | None) -> tuple[int, str] | None:
    if raw is None:
        return None
    seq, sep, digest = raw.partition(":")
    if not sep or not seq.isdigit() or len(digest) != 64:
        err_console.print("[red]error:[/red] --anchor must look like SEQ:HASH (64 hex digits)")
        raise typer.Exit(2)
    return int(seq), digest.lower()


def _encryptor(settings: Settings, needed: str | None = None) -> Encryptor | None:
    encryptor = load_encryptor(settings.encryption)
    if encryptor is None and needed:
        raise ConfigError(
            f"{needed} needs the encryption keys: set BASTION_ENCRYPTION_KEYS or "
            "BASTION_ENCRYPTION_KEY_FILE as the server has them"
        )
    return encryptor


async def _verify_file(path: Path, anchor: tuple[int, str] | None) -> VerifyReport:
    async def records() -> AsyncIterator[Any]:
        with path.open("rb") as fh:
            for line in fh:
                if line.strip():
                    yield record_from_json(orjson.loads(line))

    return await verify_records(records(), anchor=anchor)


def _show(report: VerifyReport, as_json: bool) -> None:
    if as_json:
        console.print_json(orjson.dumps(report.to_json()).decode())
        return
    if report.broken is not None:
        b = report.broken
        console.print(f"[red]BROKEN[/red] at record {b.seq} ({b.problem}): {b.message}")
        console.print(f"  {report.checked} records before it verified")
        return
    head = f"head {report.last_seq} {report.head_hash}" if report.last_seq else "empty log"
    extra = f", {report.payloads_checked} payloads opened" if report.payloads_checked else ""
    console.print(f"[green]ok[/green] {report.checked} records verified{extra}; {head}")


@app.command()
def verify(
    from_seq: int = typer.Option(1, "--from", min=1, help="start at this record"),
    anchor: str | None = typer.Option(None, help="SEQ:HASH of a head recorded earlier"),
    payloads: bool = typer.Option(False, help="also open every payload (needs the keys)"),
    file: Path | None = typer.Option(None, exists=True, help="verify an export file instead"),
    as_json: bool = typer.Option(False, "--json", help="print the report as JSON"),
    config: Path | None = ConfigOption,
) -> None:
    """Walk the hash chain; exit 1 at the first edited, deleted, inserted or reordered record."""
    settings = settings_from(config)
    anchored = _anchor(anchor)

    async def go() -> VerifyReport:
        if file is not None:
            return await _verify_file(file, anchored)
        encryptor = _encryptor(settings, "--payloads") if payloads else None
        async with opened_store(settings) as store:
            return await verify_log(store, from_seq=from_seq, anchor=anchored, encryptor=encryptor)

    report = run(go())
    _show(report, as_json)
    if not report.ok:
        raise typer.Exit(1)


@app.command()
def export(
    since: datetime | None = typer.Option(None, help="records at or after this time (ISO 8601)"),
    from_seq: int = typer.Option(1, "--from", min=1, help="start at this record"),
    fmt: str = typer.Option("jsonl", "--format", help="jsonl (one record per line)"),
    output: Path | None = typer.Option(None, "--output", "-o", help="file (default: stdout)"),
    decrypt: bool = typer.Option(False, help="add each payload opened (needs the keys)"),
    config: Path | None = ConfigOption,
) -> None:
    """Write the log as JSON lines, with every field and hash (verifiable with --file)."""
    if fmt != "jsonl":
        err_console.print(f"[red]error:[/red] --format {fmt!r} is not supported; use jsonl")
        raise typer.Exit(2)
    settings = settings_from(config)
    moment = since.replace(tzinfo=UTC) if since is not None and since.tzinfo is None else since

    async def go() -> int:
        encryptor = _encryptor(settings, "--decrypt") if decrypt else None
        async with opened_store(settings) as store:
            if output is None:
                out = sys.stdout.buffer
                count = await export_jsonl(
                    store, out.write, from_seq=from_seq, since=moment, encryptor=encryptor
                )
                out.flush()
                return count
            with output.open("wb") as fh:
                return await export_jsonl(
                    store, fh.write, from_seq=from_seq, since=moment, encryptor=encryptor
                )

    count = run(go())
    if output is not None:
        console.print(f"exported {count} records to {output}")


@app.command("rotate-key")
def rotate_key(
    batch: int = typer.Option(500, min=1, help="records per transaction"),
    config: Path | None = ConfigOption,
) -> None:
    """Re-encrypt stored audit payloads under the first (newest) key; safe while serving."""
    settings = settings_from(config)

    async def go() -> Any:
        encryptor = _encryptor(settings, "rotate-key")
        assert encryptor is not None
        async with opened_store(settings) as store:
            return await rotate_payloads(store, encryptor, batch=batch)

    report = run(go())
    console.print(
        f"re-encrypted {report.reencrypted} payloads under key {report.active_key!r}; "
        "older keys may now be removed from the configuration"
    )


@app.command("gen-key")
def gen_key(key_id: str | None = typer.Option(None, "--id", help="the key's id")) -> None:
    """Print a new random AES-256 key as id:base64key (for BASTION_ENCRYPTION_KEYS)."""
    try:
        line = generate_key(key_id)
    except ConfigError as exc:
        err_console.print(f"[red]error:[/red] {exc.message}")
        raise typer.Exit(2) from exc
    console.print(line, markup=False, highlight=False)
