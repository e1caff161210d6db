"""Eval sets: versioned per name, content in the registry's artifact store (sha256-addressed,
checked on every load), one metadata row per version. Identical content is one version."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import structlog
from sqlalchemy import func, select

from bastion.errors import InvalidRequest, NotFound, PayloadTooLarge
from bastion.evaluation.entities import EvalRow, EvalSet
from bastion.evaluation.formats import format_of, parse_rows
from bastion.registry import Artifacts, ArtifactStore
from bastion.store import Database
from bastion.store.evaluation_tables import EvalSetRow
from bastion.store.tables import utcnow
from bastion.store.versions import insert_next_version

log = structlog.get_logger(__name__)

SET_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,62}$")
_REF = re.compile(r"^(?P<name>[a-z0-9][a-z0-9._-]{0,62})(?:@v?(?P<version>[0-9]{1,9}))?$")


def parse_ref(ref: str) -> tuple[str, int | None]:
    """``NAME`` (newest version) or ``NAME@VERSION`` (``@v2`` too)."""
    match = _REF.match(ref.strip().lower())
    if match is None:
        raise InvalidRequest(
            f"{ref!r} is not an eval set reference; use NAME or NAME@VERSION, e.g. golden@2",
            details={"field": "set"},
        )
    version = match["version"]
    return match["name"], int(version) if version else None


class EvalSetStore:
    """Register, list, resolve and load eval sets. One database session per operation."""

    def __init__(
        self, db: Database, artifacts: ArtifactStore | Artifacts, *, max_bytes: int
    ) -> None:
        self._db = db
        self._artifacts = artifacts if isinstance(artifacts, Artifacts) else Artifacts(artifacts)
        self._max_bytes = max_bytes

    async def register(
        self,
        name: str,
        content: bytes,
        *,
        filename: str | None = None,
        fmt: str | None = None,
        description: str = "",
        created_by: str = "cli",
        tenant: str | None = None,
        created_by_key: str | None = None,
    ) -> tuple[EvalSet, bool]:
        """Validate every row, store the bytes, record the next version; ``(set, created)``.

        Nothing is stored when a row is bad. The same bytes again return their version.
        """
        if not SET_NAME.match(name):
            raise InvalidRequest(
                f"invalid eval set name {name!r}: use 1-63 characters, lowercase letters, "
                "digits, '.', '_' or '-', starting with a letter or digit (e.g. golden)",
                details={"field": "name"},
            )
        if len(content) > self._max_bytes:
            raise PayloadTooLarge(
                f"the eval set is {len(content)} bytes; evaluation.max_set_bytes allows "
                f"{self._max_bytes}"
            )
        kind = format_of(filename, content, fmt)
        rows = await asyncio.to_thread(parse_rows, content, kind)
        slices = sorted({dim for row in rows for dim in row.slices})
        sha256, size = await self._artifacts.put(content)
        found, created = await insert_next_version(
            lambda: self._insert(
                name,
                sha256,
                size,
                kind,
                len(rows),
                slices,
                description,
                created_by,
                (tenant, created_by_key),
            ),
            f"eval set {name!r}",
        )
        if created:
            log.info("eval_set_registered", name=name, version=found.version, sha256=sha256)
        return found, created

    async def _insert(
        self,
        name: str,
        sha256: str,
        size: int,
        kind: str,
        rows: int,
        slices: list[str],
        description: str,
        created_by: str,
        owner: tuple[str | None, str | None] = (None, None),
    ) -> tuple[EvalSet, bool]:
        async with self._db.session() as session:
            same = await session.scalar(
                select(EvalSetRow)
                .where(EvalSetRow.name == name, EvalSetRow.sha256 == sha256)
                .order_by(EvalSetRow.version.desc())
                .limit(1)
            )
            if same is not None:
                return EvalSet.from_row(same), False
            latest = await session.scalar(
                select(func.max(EvalSetRow.version)).where(EvalSetRow.name == name)
            )
            row = EvalSetRow(
                name=name,
                version=(latest or 0) + 1,
                sha256=sha256,
                format=kind,
                rows=rows,
                size=size,
                slices=slices,
                description=description,
                created_by=created_by[:100],
                created_at=utcnow(),
                tenant=owner[0],
                created_by_key=owner[1],
            )
            session.add(row)
            await session.commit()
            return EvalSet.from_row(row), True

    async def list_sets(self, name: str | None = None) -> list[EvalSet]:
        query = select(EvalSetRow).order_by(EvalSetRow.name, EvalSetRow.version)
        if name is not None:
            query = query.where(EvalSetRow.name == name)
        async with self._db.session() as session:
            return [EvalSet.from_row(r) for r in await session.scalars(query)]

    async def owner(self, name: str) -> str | None:
        """The tenant owning set ``name`` (its first version's; None: shared); NotFound,
        naming no other set, if no set has that name."""
        async with self._db.session() as session:
            row = await session.scalar(
                select(EvalSetRow).where(EvalSetRow.name == name).order_by(EvalSetRow.version)
            )
        if row is None:
            raise NotFound(f"no eval set named {name!r}")
        return row.tenant

    async def get(self, name: str, version: int | None = None) -> EvalSet:
        """Version ``version`` of ``name``, or its newest; NotFound lists what exists."""
        query = select(EvalSetRow).where(EvalSetRow.name == name)
        if version is None:
            query = query.order_by(EvalSetRow.version.desc()).limit(1)
        else:
            query = query.where(EvalSetRow.version == version)
        async with self._db.session() as session:
            row = await session.scalar(query)
            if row is not None:
                return EvalSet.from_row(row)
            versions = list(
                await session.scalars(select(EvalSetRow.version).where(EvalSetRow.name == name))
            )
        if not versions:
            raise NotFound(
                f"no eval set named {name!r}; register one: bastion eval sets register {name} FILE"
            )
        shown = ", ".join(str(v) for v in sorted(versions))
        raise NotFound(f"eval set {name!r} has no version {version}; its versions: {shown}")

    async def resolve(self, ref: str) -> EvalSet:
        return await self.get(*parse_ref(ref))

    async def rows(self, eval_set: EvalSet) -> list[EvalRow]:
        """The set's rows, read from the artifact store after checking its sha256 (fetched
        from the shared store into this replica's cache first when needed)."""
        path = await self._artifacts.path(eval_set.sha256, expected_size=eval_set.size)
        return await asyncio.to_thread(_read, path, eval_set.format)


def _read(path: Path, kind: str) -> list[EvalRow]:
    return parse_rows(path.read_bytes(), kind)  # type: ignore[arg-type]
