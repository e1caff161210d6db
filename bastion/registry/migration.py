"""Moving a registry between artifact stores: every artifact a model version or an eval set
names is copied into the target through this replica's cache (its sha256 checked on the way
out), then re-hashed where it landed. Nothing is deleted from the source."""

from __future__ import annotations

from dataclasses import dataclass, field

import structlog
from sqlalchemy import select

from bastion.errors import ArtifactIntegrityError
from bastion.registry.blobs.base import BlobStore
from bastion.registry.tiered import Artifacts
from bastion.store import Database
from bastion.store.evaluation_tables import EvalSetRow
from bastion.store.tables import ModelVersionRow

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class MigrationReport:
    """What a migration did: ``ok`` when every artifact is now intact in the target."""

    source: str
    target: str
    copied: int
    present: int
    failed: list[dict[str, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failed


async def referenced(db: Database) -> dict[str, int]:
    """Every artifact the registry names (model versions and eval sets): sha256 → size."""
    async with db.session() as session:
        models = await session.execute(
            select(ModelVersionRow.artifact_sha256, ModelVersionRow.artifact_size).where(
                ModelVersionRow.artifact_sha256.is_not(None)
            )
        )
        sets = await session.execute(select(EvalSetRow.sha256, EvalSetRow.size))
        return {str(sha): int(size) for sha, size in [*models, *sets] if sha}


async def migrate(db: Database, artifacts: Artifacts, target: BlobStore) -> MigrationReport:
    """Copy every referenced artifact into ``target`` and check each copy there."""
    copied = present = 0
    failed: list[dict[str, str]] = []
    for sha256, size in sorted((await referenced(db)).items()):
        try:
            if await artifacts.copy_to(target, sha256, size):
                copied += 1
            else:
                present += 1
        except ArtifactIntegrityError as exc:
            failed.append({"sha256": sha256, "reason": exc.message})
            continue
        check = await Artifacts.check_store(target, sha256, size)
        if not check.ok:
            failed.append({"sha256": sha256, "reason": check.message})
    report = MigrationReport(artifacts.store_name, target.name, copied, present, failed)
    log.info(
        "artifacts_migrated",
        source=report.source,
        target=report.target,
        copied=copied,
        present=present,
        failed=len(failed),
    )
    return report
