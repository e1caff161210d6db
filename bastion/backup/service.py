"""Making a backup and restoring one: the database, the artifacts, the manifest, the proof.

A backup is a directory ``bastion-<UTC time>-<id>/`` with ``manifest.json``, the database
(``database.sqlite``, ``database.pgdump`` or ``database.jsonl.gz``) and ``artifacts/``. A
restore goes only into an empty place, checks every hash first, brings the schema to this
version's head, and proves itself: the audit chain must verify up to the head the backup
recorded. Both record what they did (operation records), so that `bastion check` sees them.
"""

from __future__ import annotations

import asyncio
import secrets
import shutil
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import inspect, text

from bastion.backup import logical, native
from bastion.backup.manifest import FileEntry, Manifest
from bastion.errors import BastionError
from bastion.settings import Settings
from bastion.store import Database, migrate
from bastion.store.operations_tables import SqlOperationRecords

DB_FILES = {
    "sqlite": "database.sqlite",
    "pg_dump": "database.pgdump",
    "portable": "database.jsonl.gz",
}


class BackupError(BastionError):
    type = "backup_failed"


@dataclass(frozen=True, slots=True)
class RestoreReport:
    backup_id: str
    method: str
    target: str
    artifacts: int
    audit_ok: bool
    audit_checked: int
    audit_problem: str | None
    record: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


async def _revisions(db: Database) -> list[str]:
    async with db.engine.connect() as conn:
        rows = await conn.execute(text("SELECT version_num FROM alembic_version"))
        return sorted(str(r[0]) for r in rows)


async def _audit_head(db: Database) -> tuple[int, str] | None:
    async with db.engine.connect() as conn:
        row = (
            await conn.execute(
                text("SELECT seq, hash FROM audit_records ORDER BY seq DESC LIMIT 1")
            )
        ).first()
    return (int(row[0]), str(row[1])) if row is not None else None


def _copy_artifacts(source: Path, dest: Path) -> None:
    for path in sorted(p for p in source.rglob("*") if p.is_file()):
        target = dest / path.relative_to(source)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)


async def _dump(db: Database, root: Path, portable: bool) -> tuple[str, str | None]:
    """Write the database; returns the method used and a note when it had to fall back."""
    note = None
    if not portable and db.dialect == "postgresql":
        note = await native.pg_tools_fit(db)
        portable = note is not None
    method = "portable" if portable else ("sqlite" if db.dialect == "sqlite" else "pg_dump")
    out = root / DB_FILES[method]
    if method == "portable":
        await logical.dump(db, out)
    elif method == "sqlite":
        await asyncio.to_thread(native.sqlite_backup, Path(str(db.url.database)), out)
    else:
        await native.pg_dump(db, out)
    return method, (f"{note}; wrote a portable dump instead" if note else None)


async def make_backup(
    settings: Settings, out_root: Path, *, portable: bool = False, actor: str = "cli"
) -> tuple[Path, Manifest, str | None]:
    """Back up the configured database and artifact store under ``out_root``."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    await migrate.upgrade(settings.resolved_database_url)
    db = Database(settings.resolved_database_url)
    try:
        now = datetime.now(UTC)
        backup_id = f"bastion-{now:%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"
        root = out_root / backup_id
        root.mkdir(parents=True)
        revisions, head = await _revisions(db), await _audit_head(db)
        method, note = await _dump(db, root, portable)  # the database first: artifacts that
        if settings.artifacts_dir.is_dir():  # appear after it are harmless extras
            await asyncio.to_thread(_copy_artifacts, settings.artifacts_dir, root / "artifacts")
        files = sorted(p for p in (root / "artifacts").rglob("*") if p.is_file())
        manifest = Manifest(
            id=backup_id,
            created_at=now.isoformat(),
            dialect=db.dialect,
            method=method,
            revisions=revisions,
            database=FileEntry.of(root, root / DB_FILES[method]),
            artifacts=[FileEntry.of(root, p) for p in files],
            audit_head=head,
            tool={"bastion": "0.1.0"},
        )
        manifest.write(root)
        size = manifest.database.bytes + sum(a.bytes for a in manifest.artifacts)
        await SqlOperationRecords(db).add(
            "backup",
            subject=backup_id,
            tenant=None,
            passed=True,
            summary=f"{method} backup {backup_id}: {len(files)} artifacts, {size} bytes",
            details={"path": str(root.resolve()), "method": method, "bytes": size, "note": note},
            actor=actor,
        )
        return root, manifest, note
    finally:
        await db.aclose()


def _has_files(directory: Path) -> bool:
    return directory.is_dir() and any(directory.iterdir())


async def require_empty(db: Database, artifacts: Path) -> None:
    async with db.engine.connect() as conn:
        names = await conn.run_sync(lambda c: inspect(c).get_table_names())
    if names:
        raise BackupError(
            f"the target database already has tables ({', '.join(sorted(names)[:5])}…); "
            "restore into an empty database or a new data dir, never over live data"
        )
    if _has_files(artifacts):
        raise BackupError(
            f"the target artifact store {artifacts} is not empty; restore into a new data dir"
        )


def check_fits(manifest: Manifest, dialect: str) -> None:
    if manifest.method == "sqlite" and dialect != "sqlite":
        raise BackupError("a SQLite file backup restores into SQLite; make a --portable backup")
    if manifest.method == "pg_dump" and dialect != "postgresql":
        raise BackupError("a pg_dump backup restores into PostgreSQL; make a --portable backup")
    if manifest.method == "portable" and ",".join(manifest.revisions) != migrate.head():
        raise BackupError(
            f"this portable dump is at schema {','.join(manifest.revisions)} but this Bastion "
            f"is at {migrate.head()}; restore it with the Bastion version that made it"
        )
