"""Restoring a backup into an empty place, then proving it with the audit chain."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

from bastion.backup import logical, native
from bastion.backup.manifest import MANIFEST, Manifest
from bastion.backup.service import BackupError, RestoreReport, check_fits, require_empty
from bastion.observability.audit.sql import SqlAuditStore
from bastion.observability.audit.verify import verify_log
from bastion.settings import Settings
from bastion.store import Database, migrate
from bastion.store.operations_tables import SqlOperationRecords


def read_manifest(root: Path) -> Manifest:
    if not (root / MANIFEST).is_file():
        raise BackupError(f"{root} holds no {MANIFEST}; point at a `bastion backup` directory")
    manifest = Manifest.read(root)
    damaged = manifest.damaged(root)
    if damaged:
        raise BackupError("the backup is damaged: " + "; ".join(damaged[:5]))
    return manifest


async def _load(manifest: Manifest, root: Path, db: Database) -> None:
    source = root / manifest.database.path
    if manifest.method == "sqlite":
        await db.aclose()  # nothing open on the file while it is written
        await asyncio.to_thread(native.sqlite_restore, source, Path(str(db.url.database)))
    elif manifest.method == "pg_dump":
        reason = await native.pg_tools_fit(db)
        if reason is not None:
            raise BackupError(f"cannot restore a pg_dump backup: {reason}")
        await native.pg_restore(db, source)
    else:
        await migrate.upgrade(str(db.url.render_as_string(hide_password=False)))
        await logical.load(db, source)


def _restore_artifacts(manifest: Manifest, root: Path, dest: Path) -> int:
    for entry in manifest.artifacts:
        target = dest / Path(entry.path).relative_to("artifacts")
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(root / entry.path, target)
    return len(manifest.artifacts)


async def restore_backup(root: Path, settings: Settings, *, actor: str = "cli") -> RestoreReport:
    """Restore ``root`` into the configured (empty) database and artifact store."""
    manifest = read_manifest(root)
    url = settings.resolved_database_url
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    db = Database(url)
    try:
        check_fits(manifest, db.dialect)
        await require_empty(db, settings.artifacts_dir)
        await _load(manifest, root, db)
    finally:
        await db.aclose()
    await migrate.upgrade(url)  # an older backup comes forward to this version's schema
    artifacts = await asyncio.to_thread(_restore_artifacts, manifest, root, settings.artifacts_dir)
    db = Database(url)
    try:
        store = SqlAuditStore(db)
        try:
            report = await verify_log(store, anchor=manifest.audit_head)
        finally:
            await store.aclose()
        problem = report.broken.message if report.broken is not None else None
        summary = (
            f"restored {manifest.id} ({manifest.method}): {artifacts} artifacts, audit chain "
            + (f"verified over {report.checked} records" if report.ok else f"BROKEN: {problem}")
        )
        record = await SqlOperationRecords(db).add(
            "restore",
            subject=manifest.id,
            tenant=None,
            passed=report.ok,
            summary=summary,
            details={
                "method": manifest.method,
                "backup_created_at": manifest.created_at,
                "artifacts": artifacts,
                "audit_checked": report.checked,
                "audit_head": list(manifest.audit_head) if manifest.audit_head else None,
            },
            actor=actor,
        )
    finally:
        await db.aclose()
    target = db.url.render_as_string(hide_password=True)
    return RestoreReport(
        manifest.id, manifest.method, target, artifacts, report.ok, report.checked, problem, record
    )
