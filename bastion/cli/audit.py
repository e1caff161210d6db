"""`bastion audit …`: verify the chain, export it, re-encrypt payloads, make keys.

``verify``, ``export`` and ``rotate-key`` go through the server's audit API (admins);
``verify --file`` checks an export offline and ``verify --offline`` / ``export --offline``
read the configured database from this machine, with no server. ``gen-key`` is local.
"""

from __future__ import annotations

import contextlib
import getpass
import json
import sys
from collections.abc import AsyncIterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from bastion.cli.client import AdminClient, KeyOption, UrlOption
from bastion.cli.common import (
    OFFLINE_NOTE,
    ConfigOption,
    console,
    err_console,
    opened_db,
    run,
    settings_from,
)

if TYPE_CHECKING:
    from bastion.observability.audit import VerifyReport
    from bastion.observability.audit.sql import SqlAuditStore
    from bastion.security.encryption import Encryptor
    from bastion.settings import Settings

OfflineOption = typer.Option(False, help=f"no server: {OFFLINE_NOTE}")

app = typer.Typer(
    rich_markup_mode=None,
    help="The tamper-evident audit log: verify, export, rotate-key, gen-key.",
    no_args_is_help=True,
)


@contextlib.asynccontextmanager
async def opened_store(settings: Settings) -> AsyncIterator[SqlAuditStore]:
    from bastion.observability.audit.sql import SqlAuditStore

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
    """Record an admin change made offline from the command line (``keys create --offline``).

    The actor is ``cli:<actor>`` when one was given, else ``cli:<OS user>``.
    """
    from bastion.observability.audit import AuditLog

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
    from bastion.errors import ConfigError
    from bastion.security.encryption import load_encryptor

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
    from bastion.errors import ConfigError
    from bastion.security.encryption import load_encryptor

    encryptor = load_encryptor(settings.encryption)
    if encryptor is None and needed:
        raise ConfigError(
            f"{needed} needs the encryption keys: set BASTION_ENCRYPTION_KEYS or "
            "BASTION_ENCRYPTION_KEY_FILE as the server has them"
        )
    return encryptor


async def _verify_file(path: Path, anchor: tuple[int, str] | None) -> VerifyReport:
    import orjson

    from bastion.observability.audit import record_from_json, verify_records

    async def records() -> AsyncIterator[Any]:
        with path.open("rb") as fh:
            for line in fh:
                if line.strip():
                    yield record_from_json(orjson.loads(line))

    return await verify_records(records(), anchor=anchor)


def _show(report: dict[str, Any], as_json: bool) -> None:
    """A verify report (``VerifyReport.to_json()``, as the API answers it) as text or JSON."""
    if as_json:
        console.print_json(json.dumps(report))
        return
    broken = report.get("broken")
    if broken is not None:
        console.print(
            f"[red]BROKEN[/red] at record {broken['seq']} ({broken['problem']}): "
            f"{broken['message']}"
        )
        console.print(f"  {report['checked']} records before it verified")
        return
    last, head_hash = report.get("last_seq"), report.get("head_hash")
    head = f"head {last} {head_hash}" if last else "empty log"
    opened_n = report.get("payloads_checked")
    extra = f", {opened_n} payloads opened" if opened_n else ""
    console.print(f"[green]ok[/green] {report['checked']} records verified{extra}; {head}")


@app.command()
def verify(
    from_seq: int = typer.Option(1, "--from", min=1, help="start at this record"),
    anchor: str | None = typer.Option(None, help="SEQ:HASH of a head recorded earlier"),
    payloads: bool = typer.Option(False, help="also open every payload (needs the keys)"),
    file: Path | None = typer.Option(
        None, exists=True, help="verify an export file instead (offline, no server)"
    ),
    offline: bool = OfflineOption,
    as_json: bool = typer.Option(False, "--json", help="print the report as JSON"),
    url: str | None = UrlOption,
    key: str | None = KeyOption,
    config: Path | None = ConfigOption,
) -> None:
    """Walk the hash chain; exit 1 at the first edited, deleted, inserted or reordered record."""
    anchored = _anchor(anchor)
    if file is not None or offline:
        report = _verify_here(file, from_seq, anchored, payloads, config)
    else:
        body = {"from_seq": from_seq, "anchor": anchor, "payloads": payloads}
        report = AdminClient.resolve(url, key, config).post("/v1/admin/audit/verify", body)
    _show(report, as_json)
    if not report["ok"]:
        raise typer.Exit(1)


def _verify_here(
    file: Path | None,
    from_seq: int,
    anchored: tuple[int, str] | None,
    payloads: bool,
    config: Path | None,
) -> dict[str, Any]:
    from bastion.observability.audit import verify_log

    async def go() -> VerifyReport:
        if file is not None:
            return await _verify_file(file, anchored)
        settings = settings_from(config)
        encryptor = _encryptor(settings, "--payloads") if payloads else None
        async with opened_store(settings) as store:
            return await verify_log(store, from_seq=from_seq, anchor=anchored, encryptor=encryptor)

    found: dict[str, Any] = run(go()).to_json()
    return found


@app.command()
def export(
    since: datetime | None = typer.Option(None, help="records at or after this time (ISO 8601)"),
    from_seq: int = typer.Option(1, "--from", min=1, help="start at this record"),
    fmt: str = typer.Option("jsonl", "--format", help="jsonl (one record per line)"),
    output: Path | None = typer.Option(None, "--output", "-o", help="file (default: stdout)"),
    decrypt: bool = typer.Option(False, help="add each payload opened (needs the keys)"),
    offline: bool = OfflineOption,
    url: str | None = UrlOption,
    key: str | None = KeyOption,
    config: Path | None = ConfigOption,
) -> None:
    """Write the log as JSON lines, with every field and hash (verifiable with --file)."""
    if fmt != "jsonl":
        err_console.print(f"[red]error:[/red] --format {fmt!r} is not supported; use jsonl")
        raise typer.Exit(2)
    moment = since.replace(tzinfo=UTC) if since is not None and since.tzinfo is None else since
    with contextlib.ExitStack() as stack:
        out = stack.enter_context(output.open("wb")) if output is not None else sys.stdout.buffer
        counted = _Counted(out.write)
        if offline:
            _export_here(counted, from_seq, moment, decrypt, config)
        else:
            AdminClient.resolve(url, key, config).download(
                "/v1/admin/audit/export",
                counted,
                from_seq=from_seq,
                since=moment.isoformat() if moment else None,
                decrypt=decrypt,
            )
        out.flush()
    if output is not None:
        console.print(f"exported {counted.lines} records to {output}")


class _Counted:
    """A writer that counts the lines passing through it."""

    def __init__(self, write: Any) -> None:
        self._write = write
        self.lines = 0

    def __call__(self, data: bytes) -> None:
        self.lines += data.count(b"\n")
        self._write(data)


def _export_here(
    write: Any, from_seq: int, since: datetime | None, decrypt: bool, config: Path | None
) -> None:
    from bastion.observability.audit import export_jsonl

    settings = settings_from(config)

    async def go() -> int:
        encryptor = _encryptor(settings, "--decrypt") if decrypt else None
        async with opened_store(settings) as store:
            return await export_jsonl(
                store, write, from_seq=from_seq, since=since, encryptor=encryptor
            )

    run(go())


@app.command("rotate-key")
def rotate_key(
    batch: int = typer.Option(500, min=1, help="records per transaction"),
    offline: bool = OfflineOption,
    url: str | None = UrlOption,
    key: str | None = KeyOption,
    config: Path | None = ConfigOption,
) -> None:
    """Re-encrypt stored audit payloads under the first (newest) key, by the server (or with
    --offline, here with the configured keys); safe while serving."""
    if offline:
        done = _rotate_here(batch, config)
    else:
        client = AdminClient.resolve(url, key, config)
        done = client.post("/v1/admin/audit/rotate-key", {"batch": batch})
    console.print(
        f"re-encrypted {done['reencrypted']} payloads under key {done['active_key']!r}; "
        "older keys may now be removed from the configuration"
    )


def _rotate_here(batch: int, config: Path | None) -> dict[str, Any]:
    from bastion.observability.audit import rotate_payloads

    settings = settings_from(config)

    async def go() -> Any:
        encryptor = _encryptor(settings, "rotate-key")
        assert encryptor is not None
        async with opened_store(settings) as store:
            return await rotate_payloads(store, encryptor, batch=batch)

    report = run(go())
    return {"reencrypted": report.reencrypted, "active_key": report.active_key}


@app.command("gen-key")
def gen_key(key_id: str | None = typer.Option(None, "--id", help="the key's id")) -> None:
    """Print a new random AES-256 key as id:base64key (for BASTION_ENCRYPTION_KEYS); local."""
    from bastion.errors import ConfigError
    from bastion.security.encryption import generate_key

    try:
        line = generate_key(key_id)
    except ConfigError as exc:
        err_console.print(f"[red]error:[/red] {exc.message}")
        raise typer.Exit(2) from exc
    console.print(line, markup=False, highlight=False)
