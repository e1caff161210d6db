"""The model registry: register versions, move aliases, roll back, verify; rules, no SQL strings."""

from __future__ import annotations

import asyncio
import io
import re
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import structlog
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bastion.backends.archives import check_archive
from bastion.errors import ArtifactIntegrityError, ArtifactTampered, InvalidRequest, NotFound
from bastion.registry import aliases as rules
from bastion.registry.artifacts import ArtifactStore
from bastion.registry.entities import (
    MAX_VERSION,
    AliasEvent,
    ModelSummary,
    ModelVersion,
    VerifyResult,
    bounded,
    check_pickle,
    group_aliases,
    json_mapping,
    metrics_mapping,
    validate_name,
    with_aliases,
)
from bastion.registry.tiered import Artifacts, StoreCheck
from bastion.store import Database
from bastion.store.tables import ModelRow, ModelVersionRow, utcnow
from bastion.store.upsert import insert_for
from bastion.store.versions import insert_next_version

log = structlog.get_logger(__name__)

_VERSION_REF = re.compile(r"^v?[0-9]{1,30}$")


async def _versions(session: AsyncSession, name: str | None) -> list[ModelVersion]:
    """Every version of ``name`` (NotFound if unknown), or of every model if None."""
    query = select(ModelVersionRow).order_by(ModelVersionRow.name, ModelVersionRow.version)
    if name is None:
        grouped = group_aliases(await rules.snapshot(session))
        every = await session.scalars(query)
        return [with_aliases([row], grouped.get(row.name, {}))[0] for row in every]
    await rules.require_model(session, name)
    rows = list(await session.scalars(query.where(ModelVersionRow.name == name)))
    return with_aliases(rows, await rules.aliases_of(session, name))


async def _version(session: AsyncSession, name: str, version: int | None) -> ModelVersion:
    """Version ``version`` of ``name``, or its newest if None; NotFound lists what exists."""
    if version is not None and not 1 <= version <= MAX_VERSION:
        raise await rules.missing_version(session, name, version)
    query = select(ModelVersionRow).where(ModelVersionRow.name == name)
    if version is None:
        query = query.order_by(ModelVersionRow.version.desc()).limit(1)
    else:
        query = query.where(ModelVersionRow.version == version)
    row = await session.scalar(query)
    if row is None:
        raise await rules.missing_version(session, name, version)
    return with_aliases([row], await rules.aliases_of(session, name))[0]


async def _by_alias(session: AsyncSession, name: str, alias: str) -> ModelVersion:
    current = await rules.aliases_of(session, name)
    if alias not in current:
        await rules.require_model(session, name)
        raise NotFound(
            f"model '{name}' has no alias '{alias}'; its aliases: {rules.describe(current)} "
            "(or ask for a version number, or 'latest')"
        )
    return await _version(session, name, current[alias])


async def _summaries(session: AsyncSession) -> list[ModelSummary]:
    latest = (
        select(ModelVersionRow.name, func.max(ModelVersionRow.version).label("latest"))
        .group_by(ModelVersionRow.name)
        .subquery()
    )
    rows = await session.execute(
        select(ModelRow, latest.c.latest)
        .outerjoin(latest, latest.c.name == ModelRow.name)
        .order_by(ModelRow.name)
    )
    grouped = group_aliases(await rules.snapshot(session))
    return [
        ModelSummary(
            name=model.name,
            description=model.description,
            latest_version=newest,
            aliases=grouped.get(model.name, {}),
            created_at=model.created_at,
            tenant=model.tenant,
        )
        for model, newest in rows
    ]


def _check_zip(artifact: Path | bytes) -> None:
    source: Path | io.BytesIO = io.BytesIO(artifact) if isinstance(artifact, bytes) else artifact
    if zipfile.is_zipfile(source):
        if isinstance(source, io.BytesIO):
            source.seek(0)
        check_archive(source)


class Registry:
    """Versions, aliases and their history. One database session per operation."""

    def __init__(self, db: Database, artifacts: ArtifactStore | Artifacts) -> None:
        self._db = db
        self._artifacts = artifacts if isinstance(artifacts, Artifacts) else Artifacts(artifacts)
        self._aliases = rules.AliasBook(db)

    async def register(
        self,
        name: str,
        *,
        flavor: str,
        artifact: Path | bytes | None,
        artifact_name: str | None = None,
        signature: Mapping[str, Any] | None = None,
        metrics: Mapping[str, Any] | None = None,
        params: Mapping[str, Any] | None = None,
        training_data_hash: str | None = None,
        description: str = "",
        created_by: str = "cli",
        tenant: str | None = None,
        created_by_key: str | None = None,
    ) -> ModelVersion:
        """Store the artifact and record the model's next version (1, 2, 3… per model).

        ``tenant`` owns a new model (None: shared); a model's owner never changes here."""
        validate_name(name)
        if not flavor.strip():
            raise InvalidRequest("flavor must not be empty, e.g. sklearn, onnx, openai")
        if isinstance(artifact, Path) and artifact_name is None:
            artifact_name = artifact.name
        values: dict[str, Any] = {
            "flavor": bounded("flavor", flavor.strip(), 64),
            "artifact_name": bounded("artifact_name", artifact_name, 255),
            "signature": json_mapping("signature", signature),
            "metrics": metrics_mapping(metrics),
            "params": json_mapping("params", params),
            "training_data_hash": bounded("training_data_hash", training_data_hash, 128),
            "description": description,
            "created_by": bounded("created_by", created_by, 100),
            "created_by_key": bounded("created_by_key", created_by_key, 64),
        }
        check_pickle(artifact_name, values["params"])
        sha256, size = None, 0
        if artifact is not None:
            await asyncio.to_thread(_check_zip, artifact)  # a zip bomb: 413 before storing
            sha256, size = await self._artifacts.put(artifact)
        values.update(artifact_sha256=sha256, artifact_size=size)
        mv = await insert_next_version(
            lambda: self._insert_version(name, values, tenant), f"model {name!r}"
        )
        log.info(
            "model_version_registered",
            model=name,
            version=mv.version,
            flavor=mv.flavor,
            artifact_sha256=sha256,
        )
        return mv

    async def _insert_version(
        self, name: str, values: dict[str, Any], tenant: str | None
    ) -> ModelVersion:
        async with self._db.session() as session:
            await self._ensure_model(session, name, values["description"], tenant)
            latest = await session.scalar(
                select(func.max(ModelVersionRow.version)).where(ModelVersionRow.name == name)
            )
            row = ModelVersionRow(
                name=name, version=(latest or 0) + 1, created_at=utcnow(), **values
            )
            session.add(row)
            await session.commit()
            return ModelVersion.from_row(row)

    @staticmethod
    async def _ensure_model(
        session: AsyncSession, name: str, description: str, tenant: str | None
    ) -> None:
        """Create the model row if new, then hold it locked until commit (versions in order)."""
        dialect = session.get_bind().dialect.name
        insert = insert_for(dialect)
        await session.execute(
            insert(ModelRow)
            .values(name=name, description=description, created_at=utcnow(), tenant=tenant)
            .on_conflict_do_nothing(index_elements=["name"])
        )
        if dialect == "postgresql":
            await session.execute(
                select(ModelRow.name).where(ModelRow.name == name).with_for_update()
            )

    async def owner(self, name: str) -> str | None:
        """The tenant owning model ``name`` (None: shared); NotFound, naming no other model."""
        async with self._db.session() as session:
            row = await session.get(ModelRow, name)
        if row is None:
            raise NotFound(f"no model named '{name}'")
        return row.tenant

    async def owners(self) -> dict[str, str | None]:
        """Every model's owning tenant (None: shared), in one query."""
        async with self._db.session() as session:
            rows = await session.execute(select(ModelRow.name, ModelRow.tenant))
            return {name: tenant for name, tenant in rows}

    async def get_version(self, name: str, version: int) -> ModelVersion:
        async with self._db.session() as session:
            return await _version(session, name, version)

    async def latest_version(self, name: str) -> ModelVersion:
        async with self._db.session() as session:
            return await _version(session, name, None)

    async def list_models(self) -> list[ModelSummary]:
        async with self._db.session() as session:
            return await _summaries(session)

    async def list_versions(self, name: str) -> list[ModelVersion]:
        async with self._db.session() as session:
            return await _versions(session, name)

    async def aliases(self, name: str) -> dict[str, int]:
        async with self._db.session() as session:
            await rules.require_model(session, name)
            return await rules.aliases_of(session, name)

    async def resolve(self, name: str, alias_or_version: str) -> ModelVersion:
        """A version by number ("3", "v3"), "latest", or alias name ("production")."""
        ref = alias_or_version.strip().lower()
        async with self._db.session() as session:
            if _VERSION_REF.match(ref):
                return await _version(session, name, int(ref.removeprefix("v")))
            if ref == "latest":
                return await _version(session, name, None)
            return await _by_alias(session, name, ref)

    async def set_alias(
        self,
        name: str,
        alias: str,
        version: int,
        *,
        actor: str,
        reason: str = "",
        action: str = "set",
        also: rules.Also | None = None,
    ) -> AliasEvent:
        """Point ``alias`` at ``version``, pushing it on the alias's history stack.

        The version's artifact is checked against its sha256 first (ArtifactTampered, and
        nothing changes, if it no longer matches); ``also`` runs in the change's transaction.
        """
        await self.check_artifact(name, version)
        return await self._aliases.set(
            name, alias, version, actor=actor, reason=reason, action=action, also=also
        )

    async def promote(
        self, name: str, version: int, *, alias: str = "production", actor: str, reason: str = ""
    ) -> AliasEvent:
        """``set_alias`` recorded as a promotion; Conflict if ``version`` already holds it."""
        return await self.set_alias(
            name, version=version, alias=alias, actor=actor, reason=reason, action="promote"
        )

    async def check_artifact(self, name: str, version: int) -> None:
        """ArtifactTampered unless version ``version`` of ``name`` has no artifact or its
        stored bytes still match the sha256 recorded at registration (NotFound if unknown)."""
        mv = await self.get_version(name, version)
        result = await self._verify_one(mv, loadable=True)
        if result.ok:
            return
        raise ArtifactTampered(
            f"version {version} of model '{name}' cannot take an alias: its stored artifact "
            f"no longer matches the sha256 recorded at registration (expected "
            f"{result.expected}, found {result.actual or 'no file'}). Register a trusted copy "
            f"as a new version and promote that, or restore the original file; "
            f"`bastion models verify {name}` checks every version",
            details={
                "model": name,
                "version": version,
                "expected": result.expected,
                "actual": result.actual,
            },
        )

    async def rollback(
        self, name: str, *, alias: str = "production", actor: str, reason: str = ""
    ) -> AliasEvent:
        """Point ``alias`` back at the version it held before its current one."""
        return await self._aliases.rollback(name, alias, actor=actor, reason=reason)

    async def remove_alias(self, name: str, alias: str, *, actor: str) -> AliasEvent:
        return await self._aliases.remove(name, alias, actor=actor, reason="")

    async def alias_history(self, name: str, alias: str | None = None) -> list[AliasEvent]:
        """Alias changes of ``name`` (optionally of one alias), oldest first."""
        return await self._aliases.history(name, alias)

    async def revision(self) -> int:
        """Id of the newest alias change, 0 if none: one indexed query, cheap to poll.

        Alias changes commit in id order, so a changed revision means a changed snapshot.
        """
        return await self._aliases.revision()

    async def snapshot(self) -> dict[tuple[str, str], int]:
        """Every ``(model, alias) -> version``, read in one query."""
        return await self._aliases.snapshot()

    @property
    def artifacts(self) -> Artifacts:
        return self._artifacts

    async def artifact_path(self, mv: ModelVersion) -> Path | None:
        """The version's artifact in this replica's cache after checking its sha256 (fetched
        from the shared store first when needed), or None if it has none."""
        if mv.artifact_sha256 is None:
            return None
        return await self._artifacts.path(mv.artifact_sha256, expected_size=mv.artifact_size)

    async def verify(
        self, name: str | None = None, version: int | None = None
    ) -> list[VerifyResult]:
        """Re-hash stored artifacts: every version, one model's, or one version's."""
        if name is None:
            if version is not None:
                raise InvalidRequest("verifying a version needs the model name too")
            async with self._db.session() as session:
                records = await _versions(session, None)
        elif version is None:
            records = await self.list_versions(name)
        else:
            records = [await self.get_version(name, version)]
        return [await self._verify_one(mv) for mv in records]

    async def _verify_one(self, mv: ModelVersion, *, loadable: bool = False) -> VerifyResult:
        """Every store's copy (``verify``), or only whether it loads (``loadable``: the
        cache, fetched from the shared store when missing or altered)."""
        if mv.artifact_sha256 is None:
            return VerifyResult(mv.name, mv.version, True, None, None, "no artifact to check")
        if not loadable:
            checks = await self._artifacts.check(mv.artifact_sha256, mv.artifact_size)
            return _result_of(mv, mv.artifact_sha256, checks)
        try:
            await self.artifact_path(mv)
        except ArtifactIntegrityError as exc:
            actual = exc.details.get("actual")
            return VerifyResult(
                mv.name,
                mv.version,
                False,
                mv.artifact_sha256,
                actual if isinstance(actual, str) else None,
                exc.message,
            )
        return VerifyResult(
            mv.name, mv.version, True, mv.artifact_sha256, mv.artifact_sha256, "sha256 matches"
        )


def _result_of(mv: ModelVersion, sha256: str, checks: list[StoreCheck]) -> VerifyResult:
    """One version's result from its stores' checks: ok only when every store is."""
    bad = [c for c in checks if not c.ok]
    stores = {c.store: c.message for c in checks}
    if not bad:
        return VerifyResult(mv.name, mv.version, True, sha256, sha256, "sha256 matches", stores)
    return VerifyResult(
        mv.name,
        mv.version,
        False,
        sha256,
        bad[0].actual,
        "; ".join(f"{c.store}: {c.message}" for c in bad),
        stores,
    )
