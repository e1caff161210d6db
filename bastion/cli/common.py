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

    def rich(self) -> Console:
        """The Rich console itself (for a Progress or Live display)."""
        return _rich_console(self._stderr)

    def print(self, *objects: Any, **kwargs: Any) -> None:
        """Rich's print; a plain ``Table``, or text with no markup, is written as it is,
        without loading Rich (soft-wrapped Rich writes such text unchanged)."""
        if len(objects) == 1 and not kwargs:
            found = objects[0]
            if isinstance(found, Table):
                typer.echo(found.render(), err=self._stderr)
                return
            if isinstance(found, str) and "[" not in found:
                typer.echo(found, err=self._stderr)
                return
        _rich_console(self._stderr).print(*objects, **kwargs)


console = LazyConsole()
err_console = LazyConsole(stderr=True)


def settings_from(config: Path | None, **overrides: Any) -> Settings:
    """The settings, or the config error's message and exit code 2; misspelt ``BASTION_*``
    variables are warned about (one line each, naming the nearest real one)."""
    from bastion.errors import BastionError
    from bastion.settings import env_warnings, load_settings

    for warning in env_warnings():
        err_console.print(f"[yellow]warning:[/yellow] {warning}")
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
    from bastion.registry import Registry
    from bastion.registry.opening import open_artifacts
    from bastion.security import KeyStore

    async with opened_db(settings) as db:
        artifacts = open_artifacts(settings, db)
        try:
            yield Registry(db, artifacts), KeyStore(db)
        finally:
            await artifacts.aclose()


def dump(obj: Any) -> None:
    """Print any entity (dataclass, dict, list) as indented JSON."""
    import orjson

    console.print_json(
        orjson.dumps(obj, option=orjson.OPT_INDENT_2 | orjson.OPT_SERIALIZE_NUMPY).decode()
    )


class Table:
    """A plain-text table: a header, a rule, then rows, each column as wide as its widest
    cell. Listing commands print these (Rich's tables cost a tenth of a second to import)."""

    def __init__(self, *columns: str) -> None:
        self.columns = list(columns)
        self.rows: list[list[str]] = []

    def add_column(self, name: str, **_: Any) -> None:
        self.columns.append(name)

    def add_row(self, *cells: str) -> None:
        self.rows.append([str(c) for c in cells])

    def render(self) -> str:
        lines = [self.columns, *self.rows]
        widths = [
            max(len(line[i]) if i < len(line) else 0 for line in lines)
            for i in range(len(self.columns))
        ]

        def one(cells: list[str]) -> str:
            return "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=False)).rstrip()

        rule = "  ".join("-" * w for w in widths)
        return "\n".join([one(self.columns), rule, *(one(r) for r in self.rows)])


def table(*columns: str) -> Table:
    """A plain-text table with these columns (print it with ``console.print``)."""
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
