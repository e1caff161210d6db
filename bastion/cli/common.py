"""Shared CLI plumbing: settings from --config, an event loop, a local database, output.

Nothing heavy is imported here at module level (settings, the store, Rich are loaded on first
use), so that ``bastion --help`` and the commands that only talk to a server start at once.
"""

from __future__ import annotations

import contextlib
import functools
import json
from collections.abc import AsyncIterator, Awaitable, Coroutine
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import typer

if TYPE_CHECKING:
    from rich.console import Console

    from bastion.registry import Registry
    from bastion.security import KeyStore
    from bastion.settings import Settings
    from bastion.store import Database

T = TypeVar("T")

ConfigOption = typer.Option(None, "--config", "-c", help="bastion.yaml (default: $BASTION_CONFIG)")
OFFLINE_NOTE = "works without a server, straight on the configured database and files"


@functools.cache
def _rich_console(stderr: bool) -> Console:
    from rich.console import Console

    return Console(stderr=stderr, soft_wrap=True)


class LazyConsole:
    """A Rich console made on first use (Rich costs tens of milliseconds to import)."""

    __slots__ = ("_stderr",)

    def __init__(self, *, stderr: bool = False) -> None:
        self._stderr = stderr

    def __getattr__(self, name: str) -> Any:
        return getattr(_rich_console(self._stderr), name)


console = LazyConsole()
err_console = LazyConsole(stderr=True)


def settings_from(config: Path | None, **overrides: Any) -> Settings:
    from bastion.errors import BastionError
    from bastion.settings import load_settings

    try:
        return load_settings(config, **overrides)
    except BastionError as exc:
        err_console.print(f"[red]error:[/red] {exc.message}")
        raise typer.Exit(2) from exc


def run(coro: Coroutine[Any, Any, T] | Awaitable[T]) -> T:
    """Run one async CLI action; a BastionError becomes a one-line message and exit code 1."""
    import asyncio

    from bastion.errors import BastionError

    async def main() -> T:
        return await coro

    try:
        return asyncio.run(main())
    except BastionError as exc:
        err_console.print(f"[red]error ({exc.type}):[/red] {exc.message}")
        raise typer.Exit(1) from exc


@contextlib.asynccontextmanager
async def opened_db(settings: Settings) -> AsyncIterator[Database]:
    """The configured database, migrated to head (the data dir made if needed), closed after.

    Only commands that must work without a server use it (``db upgrade``, the first admin
    key, offline verification); everything else goes through the admin API (cli/client.py).
    """
    from bastion.store import Database, migrate

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    await migrate.upgrade(settings.resolved_database_url)
    db = Database(settings.resolved_database_url)
    try:
        yield db
    finally:
        await db.aclose()


@contextlib.asynccontextmanager
async def opened(settings: Settings) -> AsyncIterator[tuple[Registry, KeyStore]]:
    from bastion.registry import ArtifactStore, Registry
    from bastion.security import KeyStore

    async with opened_db(settings) as db:
        yield Registry(db, ArtifactStore(settings.artifacts_dir)), KeyStore(db)


def dump(obj: Any) -> None:
    """Print any entity (dataclass, dict, list) as indented JSON."""
    import orjson

    console.print_json(
        orjson.dumps(obj, option=orjson.OPT_INDENT_2 | orjson.OPT_SERIALIZE_NUMPY).decode()
    )


def table(*columns: str) -> Any:
    """A Rich table with these columns (Rich imported on first use)."""
    from rich.table import Table

    return Table(*columns)


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
