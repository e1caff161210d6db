"""Backup and restore on SQLite and PostgreSQL: native and portable, hashes, the audit proof."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from bastion.backup import BackupError, make_backup, restore_backup
from bastion.backup.manifest import Manifest
from bastion.observability.audit import AuditLog
from bastion.observability.audit.sql import SqlAuditStore
from bastion.observability.audit.verify import verify_log
from bastion.registry import ArtifactStore, Registry
from bastion.settings import Settings
from bastion.settings.audit import AuditSettings
from bastion.store import Database, migrate
from bastion.store.operations_tables import SqlOperationRecords
from tests.dbfixtures import PostgresDatabases

ARTIFACT = b"not really a model, but bytes with a hash" * 100


def _settings(data_dir: Path, url: str | None) -> Settings:
    return Settings(data_dir=data_dir, database_url=url, demo=False)


async def _populate(settings: Settings) -> None:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    await migrate.upgrade(settings.resolved_database_url)
    db = Database(settings.resolved_database_url)
    try:
        registry = Registry(db, ArtifactStore(settings.artifacts_dir))
        mv = await registry.register("churn", flavor="onnx", artifact=ARTIFACT, artifact_name="m")
        await registry.promote("churn", mv.version, actor="test")
        store = SqlAuditStore(db)
        audit = AuditLog(store, AuditSettings())
        for i in range(5):
            await audit.admin("cli:test", "model.promoted", f"churn#{i}", {"i": i})
        await audit.aclose()
        await store.aclose()
    finally:
        await db.aclose()


def _target_url(source_url: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    if source_url.startswith("sqlite"):
        return f"sqlite:///{tmp_path / 'restored' / 'bastion.db'}"
    databases: PostgresDatabases = request.getfixturevalue("postgres_databases")
    return databases.create()


async def _check_restored(settings: Settings, backup_id: str) -> None:
    db = Database(settings.resolved_database_url)
    try:
        registry = Registry(db, ArtifactStore(settings.artifacts_dir))
        assert await registry.aliases("churn") == {"production": 1}
        assert all(r.ok for r in await registry.verify("churn"))  # artifact hash checked
        store = SqlAuditStore(db)
        report = await verify_log(store)
        await store.aclose()
        assert report.ok and report.checked >= 5
        restores = await SqlOperationRecords(db).list(kind="restore")
        assert [r["subject"] for r in restores] == [backup_id] and restores[0]["passed"]
    finally:
        await db.aclose()


@pytest.mark.parametrize("portable", [False, True], ids=["native", "portable"])
async def test_backup_then_restore_into_an_empty_place_verifies_the_audit_chain(
    database_url: str, tmp_path: Path, request: pytest.FixtureRequest, portable: bool
) -> None:
    source = _settings(tmp_path / "src", database_url)
    await _populate(source)
    root, manifest, note = await make_backup(source, tmp_path / "backups", portable=portable)
    assert note is None
    expected = "portable" if portable else ("sqlite" if "sqlite" in database_url else "pg_dump")
    assert manifest.method == expected
    assert Manifest.read(root).damaged(root) == []
    assert len(manifest.artifacts) == 1 and manifest.audit_head is not None

    target = _settings(tmp_path / "dst", _target_url(database_url, tmp_path, request))
    report = await restore_backup(root, target)
    assert report.audit_ok and report.artifacts == 1
    await _check_restored(target, manifest.id)

    db = Database(source.resolved_database_url)  # the backup itself was recorded at the source
    try:
        backups = await SqlOperationRecords(db).list(kind="backup")
    finally:
        await db.aclose()
    assert backups[0]["subject"] == manifest.id


async def test_a_damaged_backup_is_refused_and_the_target_stays_empty(
    tmp_path: Path,
) -> None:
    source = _settings(tmp_path / "src", None)
    await _populate(source)
    root, manifest, _ = await make_backup(source, tmp_path / "backups")
    artifact = root / manifest.artifacts[0].path
    artifact.write_bytes(artifact.read_bytes() + b"tampered")
    target = _settings(tmp_path / "dst", None)
    with pytest.raises(BackupError, match="sha256 differs"):
        await restore_backup(root, target)
    assert not (tmp_path / "dst" / "bastion.db").exists()
    assert not target.artifacts_dir.exists()


async def test_restore_never_overwrites_live_data(tmp_path: Path) -> None:
    source = _settings(tmp_path / "src", None)
    await _populate(source)
    root, _, _ = await make_backup(source, tmp_path / "backups")
    before = (tmp_path / "src" / "bastion.db").read_bytes()
    with pytest.raises(BackupError, match="already has tables"):
        await restore_backup(root, source)
    assert (tmp_path / "src" / "bastion.db").read_bytes() == before


async def test_a_sqlite_file_backup_does_not_restore_into_postgres(
    tmp_path: Path, postgres_databases: PostgresDatabases
) -> None:
    source = _settings(tmp_path / "src", None)
    await _populate(source)
    root, _, _ = await make_backup(source, tmp_path / "backups")
    target = _settings(tmp_path / "dst", postgres_databases.create())
    with pytest.raises(BackupError, match="--portable"):
        await restore_backup(root, target)
    portable_root, _, _ = await make_backup(source, tmp_path / "portable", portable=True)
    report = await restore_backup(portable_root, target)  # a portable dump crosses over
    assert report.audit_ok


async def test_a_restored_chain_that_lost_its_tail_fails_the_proof(tmp_path: Path) -> None:
    source = _settings(tmp_path / "src", None)
    await _populate(source)
    root, manifest, _ = await make_backup(source, tmp_path / "backups", portable=True)
    doc = json.loads((root / "manifest.json").read_text())
    assert manifest.audit_head is not None
    doc["audit_head"] = [manifest.audit_head[0], "0" * 64]  # a head the dump does not hold
    (root / "manifest.json").write_text(json.dumps(doc))
    target = _settings(tmp_path / "dst", None)
    report = await restore_backup(root, target)
    assert not report.audit_ok and report.audit_problem
    shutil.rmtree(tmp_path / "dst")
