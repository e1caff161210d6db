"""Native copies: SQLite through its online backup API, PostgreSQL through pg_dump/pg_restore."""

from __future__ import annotations

import asyncio
import re
import shutil
import sqlite3
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import URL

from bastion.errors import BastionError
from bastion.store import Database


class NativeToolMissing(BastionError):
    type = "backup_tool_missing"


def sqlite_backup(source: Path, out: Path) -> None:
    """A consistent copy while writers continue (``sqlite3.Connection.backup``)."""
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    dst = sqlite3.connect(out)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()


def sqlite_restore(backup: Path, target: Path) -> None:
    """Copy the backup into place through the backup API, then check its integrity."""
    target.parent.mkdir(parents=True, exist_ok=True)
    sqlite_backup(backup, target)
    con = sqlite3.connect(target)
    try:
        (ok,) = con.execute("PRAGMA integrity_check").fetchone()
    finally:
        con.close()
    if ok != "ok":
        raise BastionError(f"restored SQLite database fails its integrity check: {ok}")


def libpq_url(url: URL) -> str:
    """The SQLAlchemy URL as pg_dump and pg_restore take it."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


async def _major_of_server(db: Database) -> int:
    async with db.engine.connect() as conn:
        num = await conn.scalar(text("SELECT current_setting('server_version_num')"))
    return int(str(num)) // 10000


def _major_of_tool(tool: str) -> int | None:
    import subprocess

    path = shutil.which(tool)
    if path is None:
        return None
    out = subprocess.run([path, "--version"], capture_output=True, text=True, check=False)
    found = re.search(r"(\d+)(?:\.\d+)?", out.stdout)
    return int(found.group(1)) if found else None


async def pg_tools_fit(db: Database) -> str | None:
    """None when pg_dump and pg_restore are present and not older than the server; else why."""
    server = await _major_of_server(db)
    for tool in ("pg_dump", "pg_restore"):
        major = _major_of_tool(tool)
        if major is None:
            return f"{tool} is not installed (Debian: postgresql-client)"
        if major < server:
            return f"{tool} {major} is older than the server ({server})"
    return None


async def _run(*args: str) -> None:
    proc = await asyncio.create_subprocess_exec(
        *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    _, err = await proc.communicate()
    if proc.returncode != 0:
        message = err.decode(errors="replace").strip().splitlines()
        raise BastionError(f"{args[0]} failed: {' | '.join(message[-3:]) or proc.returncode}")


async def pg_dump(db: Database, out: Path) -> None:
    await _run(
        "pg_dump", "--format=custom", "--no-owner", "--no-privileges",
        f"--file={out}", libpq_url(db.url),
    )  # fmt: skip


async def pg_restore(db: Database, dump: Path) -> None:
    await _run(
        "pg_restore", "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction",
        f"--dbname={libpq_url(db.url)}", str(dump),
    )  # fmt: skip
