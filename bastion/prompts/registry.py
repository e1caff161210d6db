"""The prompt registry: immutable template versions, aliases with history and rollback.

Alias changes follow the model registry's rules over the prompts' own tables
(``registry/aliases.py`` with ``PROMPTS``): one transaction per change, globally ordered, so
that a replica polling the newest change id never misses one (``live.py``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import structlog
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bastion.errors import Conflict, InvalidRequest, NotFound
from bastion.prompts.entities import PromptSummary, PromptVersion
from bastion.prompts.template import canonical, parse_template
from bastion.registry.aliases import AliasBook, AliasTables, aliases_of, missing_version
from bastion.registry.aliases import require_model as require_prompt
from bastion.registry.aliases import snapshot as alias_snapshot
from bastion.registry.entities import MAX_VERSION, AliasEvent, bounded, group_aliases
from bastion.store import Database
from bastion.store.prompts_tables import (
    PromptAliasEventRow,
    PromptAliasRow,
    PromptRow,
    PromptVersionRow,
)
from bastion.store.tables import utcnow
from bastion.store.upsert import insert_for
from bastion.store.versions import insert_next_version

log = structlog.get_logger(__name__)

PROMPTS = AliasTables(
    PromptRow,
    PromptVersionRow,
    PromptAliasRow,
    PromptAliasEventRow,
    noun="prompt",
    command="bastion prompts",
    lock=0x42A5_9307,
)
_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,55}$")
_VERSION_REF = re.compile(r"^v?[0-9]{1,30}$")


def validate_name(name: str) -> None:
    if not _NAME.match(name):
        raise InvalidRequest(
            f"invalid prompt name {name!r}: use 1-56 characters, lowercase letters, digits, "
            "'.', '_' or '-', starting with a letter or digit (e.g. support-answer)",
            details={"field": "name"},
        )


async def _version(session: AsyncSession, name: str, version: int | None) -> PromptVersion:
    if version is not None and not 1 <= version <= MAX_VERSION:
        raise await missing_version(session, name, version, PROMPTS)
    query = select(PromptVersionRow).where(PromptVersionRow.name == name)
    if version is None:
        query = query.order_by(PromptVersionRow.version.desc()).limit(1)
    else:
        query = query.where(PromptVersionRow.version == version)
    row = await session.scalar(query)
    if row is None:
        raise await missing_version(session, name, version, PROMPTS)
    current = await aliases_of(session, name, PROMPTS)
    return PromptVersion.from_row(row, [a for a, v in current.items() if v == row.version])


class PromptRegistry:
    """Versions, aliases and their history. One database session per operation."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._aliases = AliasBook(db, PROMPTS)

    async def register(
        self,
        name: str,
        spec: Mapping[str, Any],
        *,
        created_by: str,
        created_by_key: str | None = None,
        tenant: str | None = None,
    ) -> PromptVersion:
        """Record ``spec`` as the prompt's next version (1, 2, 3…); a version never changes.
        Conflict if it is identical to the newest version (nothing new to register)."""
        validate_name(name)
        parse_template(spec)  # every rule checked before anything is stored
        stored, sha256 = canonical(spec)
        values = {
            "template": stored,
            "sha256": sha256,
            "description": str(stored.get("description", "")),
            "created_by": bounded("created_by", created_by, 100),
            "created_by_key": bounded("created_by_key", created_by_key, 64),
        }
        pv = await insert_next_version(
            lambda: self._insert(name, values, tenant), f"prompt {name!r}"
        )
        log.info("prompt_version_registered", prompt=name, version=pv.version, sha256=sha256)
        return pv

    async def _insert(self, name: str, values: dict[str, Any], tenant: str | None) -> PromptVersion:
        async with self._db.session() as session:
            dialect = session.get_bind().dialect.name
            insert = insert_for(dialect)
            await session.execute(
                insert(PromptRow)
                .values(name=name, description="", created_at=utcnow(), tenant=tenant)
                .on_conflict_do_nothing(index_elements=["name"])
            )
            newest = await session.scalar(
                select(PromptVersionRow)
                .where(PromptVersionRow.name == name)
                .order_by(PromptVersionRow.version.desc())
                .limit(1)
            )
            if newest is not None and newest.sha256 == values["sha256"]:
                raise Conflict(
                    f"prompt '{name}' version {newest.version} already holds this template; "
                    "nothing new to register (versions never change: edit the file first)"
                )
            row = PromptVersionRow(
                name=name,
                version=(newest.version if newest else 0) + 1,
                created_at=utcnow(),
                **values,
            )
            session.add(row)
            await session.commit()
            return PromptVersion.from_row(row)

    async def owner(self, name: str) -> str | None:
        """The tenant owning prompt ``name`` (None: shared); NotFound, naming no other."""
        async with self._db.session() as session:
            row = await session.get(PromptRow, name)
        if row is None:
            raise NotFound(f"no prompt named '{name}'")
        return row.tenant

    async def list_prompts(self) -> list[PromptSummary]:
        async with self._db.session() as session:
            latest = (
                select(PromptVersionRow.name, func.max(PromptVersionRow.version).label("v"))
                .group_by(PromptVersionRow.name)
                .subquery()
            )
            rows = await session.execute(
                select(PromptRow, latest.c.v)
                .outerjoin(latest, latest.c.name == PromptRow.name)
                .order_by(PromptRow.name)
            )
            grouped = group_aliases(await alias_snapshot(session, PROMPTS))
            return [
                PromptSummary(
                    p.name, p.description, p.tenant, v, grouped.get(p.name, {}), p.created_at
                )
                for p, v in rows
            ]

    async def list_versions(self, name: str) -> list[PromptVersion]:
        async with self._db.session() as session:
            await require_prompt(session, name, PROMPTS)
            current = await aliases_of(session, name, PROMPTS)
            rows = await session.scalars(
                select(PromptVersionRow)
                .where(PromptVersionRow.name == name)
                .order_by(PromptVersionRow.version)
            )
            return [
                PromptVersion.from_row(r, [a for a, v in current.items() if v == r.version])
                for r in rows
            ]

    async def get_version(self, name: str, version: int) -> PromptVersion:
        async with self._db.session() as session:
            return await _version(session, name, version)

    async def aliases(self, name: str) -> dict[str, int]:
        async with self._db.session() as session:
            await require_prompt(session, name, PROMPTS)
            return await aliases_of(session, name, PROMPTS)

    async def resolve(self, name: str, ref: str) -> PromptVersion:
        """A version by number ("3", "v3"), "latest", or alias ("production")."""
        ref = ref.strip().lower()
        async with self._db.session() as session:
            if _VERSION_REF.match(ref):
                return await _version(session, name, int(ref.removeprefix("v")))
            if ref == "latest":
                return await _version(session, name, None)
            current = await aliases_of(session, name, PROMPTS)
            if ref not in current:
                await require_prompt(session, name, PROMPTS)
                listed = ", ".join(f"{a} → {v}" for a, v in sorted(current.items())) or "none"
                raise NotFound(
                    f"prompt '{name}' has no alias '{ref}'; its aliases: {listed} "
                    "(or ask for a version number, or 'latest')"
                )
            return await _version(session, name, current[ref])

    async def set_alias(
        self, name: str, alias: str, version: int, *, actor: str, reason: str = "", action: str
    ) -> AliasEvent:
        return await self._aliases.set(
            name, alias, version, actor=actor, reason=reason, action=action
        )

    async def rollback(self, name: str, alias: str, *, actor: str, reason: str = "") -> AliasEvent:
        return await self._aliases.rollback(name, alias, actor=actor, reason=reason)

    async def history(self, name: str, alias: str | None = None) -> list[AliasEvent]:
        return await self._aliases.history(name, alias)

    async def revision(self) -> int:
        """Id of the newest alias change of any prompt (0: none): cheap to poll."""
        return await self._aliases.revision()

    async def snapshot(self) -> dict[tuple[str, str], int]:
        return await self._aliases.snapshot()

    async def owners(self) -> dict[str, str | None]:
        async with self._db.session() as session:
            rows = await session.execute(select(PromptRow.name, PromptRow.tenant))
            return {name: tenant for name, tenant in rows}
