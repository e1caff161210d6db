"""Shared CLI plumbing: settings from --config, an event loop, a registry session, errors."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Awaitable, Coroutine
from pathlib import Path
from typing import Any, TypeVar

import orjson
import typer
from rich.console import Console

from bastion.errors import BastionError
from bastion.registry import ArtifactStore, Registry
from bastion.security import KeyStore
from bastion.settings import Settings, load_settings
from bastion.store import Database, migrate

T = TypeVar("T")
console = Console(soft_wrap=True)
err_console = Console(stderr=True, soft_wrap=True)

ConfigOption = typer.Option(None, "--config", "-c", help="bastion.yaml (default: $BASTION_CONFIG)")


def settings_from(config: Path | None, **overrides: Any) -> Settings:
    """The settings, or the config error's message and exit code 2; misspelt ``BASTION_*``
    variables are warned about (one line each, naming the nearest real one)."""
    from bastion.settings import env_warnings

    for warning in env_warnings():
        err_console.print(f"[yellow]warning:[/yellow] {warning}")
    try:
        return load_settings(config, **overrides)
    except BastionError as exc:
        err_console.print(f"[red]error:[/red] {exc.message}")
        raise typer.Exit(2) from exc


def run(coro: Coroutine[Any, Any, T] | Awaitable[T]) -> T:
    """Run one async CLI action; a BastionError becomes a one-line message and exit code 1."""

    async def main() -> T:
        return await coro

    try:
        return asyncio.run(main())
    except BastionError as exc:
        err_console.print(f"[red]error ({exc.type}):[/red] {exc.message}")
        raise typer.Exit(1) from exc


@contextlib.asynccontextmanager
async def opened_db(settings: Settings) -> AsyncIterator[Database]:
    """The configured database, migrated to head (the data dir made if needed), closed after."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    await migrate.upgrade(settings.resolved_database_url)
    db = Database(settings.resolved_database_url)
    try:
        yield db
    finally:
        await db.aclose()


@contextlib.asynccontextmanager
async def opened(settings: Settings) -> AsyncIterator[tuple[Registry, KeyStore]]:
    async with opened_db(settings) as db:
        yield Registry(db, ArtifactStore(settings.artifacts_dir)), KeyStore(db)


def dump(obj: Any) -> None:
    """Print any entity (dataclass, dict, list) as indented JSON."""
    console.print_json(
        orjson.dumps(obj, option=orjson.OPT_INDENT_2 | orjson.OPT_SERIALIZE_NUMPY).decode()
    )


def parse_pairs(pairs: list[str], what: str) -> dict[str, Any]:
    """``key=value`` options; values parsed as JSON when they can be (numbers, true, lists)."""
    out: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            err_console.print(f"[red]error:[/red] {what} must look like key=value, got {pair!r}")
            raise typer.Exit(2)
        try:
            out[key] = json.loads(value)
        except json.JSONDecodeError:
            out[key] = value
    return out
