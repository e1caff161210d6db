"""API keys: random secrets shown once and stored only as their sha256."""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select, update

from bastion.core.principal import ROLES, Principal
from bastion.errors import Conflict, InvalidRequest, NotFound
from bastion.store import Database
from bastion.store.security_tables import KeyRow

KEY_PREFIX = "bst_"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
_MAX_METADATA_BYTES = 4096


def hash_key(plaintext: str) -> str:
    # Keys carry 256 random bits, so a fast hash is safe here, unlike for passwords.
    return hashlib.sha256(plaintext.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class ApiKey:
    """A key as listed: never its secret or hash. ``replaced_by``: the key rotated in."""

    id: str
    prefix: str
    name: str
    tenant: str
    roles: tuple[str, ...]
    deployments: tuple[str, ...] | None
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    team: str | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)
    replaced_by: str | None = None

    def active(self, now: datetime) -> bool:
        if self.revoked_at is not None:
            return False
        return self.expires_at is None or _aware(self.expires_at) > now

    def principal(self) -> Principal:
        deployments = frozenset(self.deployments) if self.deployments is not None else None
        return Principal(
            self.id, self.name, self.tenant, frozenset(self.roles), deployments, self.team
        )


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _entity(row: KeyRow) -> ApiKey:
    return ApiKey(
        id=row.id,
        prefix=row.prefix,
        name=row.name,
        tenant=row.tenant,
        roles=tuple(row.roles or ()),
        deployments=tuple(row.deployments) if row.deployments is not None else None,
        created_at=row.created_at,
        expires_at=row.expires_at,
        revoked_at=row.revoked_at,
        team=row.team,
        metadata=dict(row.meta or {}),
        replaced_by=row.replaced_by,
    )


def _check_ident(value: str | None, what: str) -> None:
    if value is not None and not _NAME.match(value):
        raise InvalidRequest(
            f"{what}: {value!r} is not a valid name; use letters, digits, '.', '_' or '-' "
            "(at most 100, starting with a letter or digit)",
            details={"field": what},
        )


def _check_new_key(
    roles: Sequence[str],
    tenant: str,
    team: str | None,
    expires_at: datetime | None,
    metadata: Mapping[str, Any] | None,
) -> None:
    unknown = sorted(set(roles) - set(ROLES))
    if unknown or not roles:
        raise InvalidRequest(
            f"unknown or missing roles {unknown}; choose from: {', '.join(ROLES)}",
            details={"field": "roles"},
        )
    _check_ident(tenant, "tenant")
    _check_ident(team, "team")
    if expires_at is not None and _aware(expires_at) <= datetime.now(UTC):
        raise InvalidRequest("expires_at: must be in the future", details={"field": "expires_at"})
    if metadata is not None and len(repr(dict(metadata))) > _MAX_METADATA_BYTES:
        raise InvalidRequest(
            f"metadata: at most {_MAX_METADATA_BYTES} bytes", details={"field": "metadata"}
        )


class KeyStore:
    """Create, find, list, rotate and revoke keys; one session per operation."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def create(
        self,
        name: str,
        roles: Sequence[str],
        *,
        deployments: Sequence[str] | None = None,
        tenant: str = "default",
        team: str | None = None,
        expires_at: datetime | None = None,
        metadata: Mapping[str, Any] | None = None,
        plaintext: str | None = None,
    ) -> tuple[str, ApiKey]:
        """Return ``(plaintext, key)``; the plaintext is never stored and cannot be recovered."""
        _check_new_key(roles, tenant, team, expires_at, metadata)
        secret = plaintext or new_secret()
        row = _new_row(secret, name, roles, deployments, tenant, team, expires_at, metadata)
        async with self._db.session() as session:
            session.add(row)
            await session.commit()
            return secret, _entity(row)

    async def find(self, plaintext: str) -> ApiKey | None:
        async with self._db.session() as session:
            row = await session.scalar(select(KeyRow).where(KeyRow.key_hash == hash_key(plaintext)))
            return _entity(row) if row else None

    async def get(self, key_id: str) -> ApiKey:
        async with self._db.session() as session:
            row = await session.get(KeyRow, key_id)
            if row is None:
                raise NotFound(f"no key with id '{key_id}'; see `bastion keys list`")
            return _entity(row)

    async def list(self, *, tenant: str | None = None, team: str | None = None) -> list[ApiKey]:
        query = select(KeyRow).order_by(KeyRow.created_at, KeyRow.id)
        if tenant is not None:
            query = query.where(KeyRow.tenant == tenant)
        if team is not None:
            query = query.where(KeyRow.team == team)
        async with self._db.session() as session:
            return [_entity(r) for r in await session.scalars(query)]

    async def any_admin(self) -> bool:
        now = datetime.now(UTC)
        return any("admin" in k.roles and k.active(now) for k in await self.list())

    async def revoke(self, key_id: str) -> None:
        async with self._db.session() as session:
            result = await session.execute(
                update(KeyRow)
                .where(KeyRow.id == key_id, KeyRow.revoked_at.is_(None))
                .values(revoked_at=datetime.now(UTC))
            )
            await session.commit()
            if result.rowcount == 0:  # type: ignore[attr-defined]
                raise NotFound(f"no active key with id '{key_id}'; see `bastion keys list`")

    async def rotate(self, key_id: str, *, grace_s: float = 86400.0) -> tuple[str, ApiKey]:
        """Issue a new secret with the same grants; the old one works ``grace_s`` longer.

        Returns the new ``(plaintext, key)``. A key can be rotated once (rotate the new one
        next); a revoked or expired key cannot be rotated.
        """
        if not 0 <= grace_s <= 90 * 86400:
            raise InvalidRequest(
                "grace_s: between 0 and 7776000 (90 days)", details={"field": "grace_s"}
            )
        now = datetime.now(UTC)
        async with self._db.session() as session:
            old = await session.get(KeyRow, key_id)
            if old is None or not _entity(old).active(now):
                raise NotFound(f"no active key with id '{key_id}'; see `bastion keys list`")
            secret = new_secret()
            new = _new_row(
                secret,
                old.name,
                old.roles,
                old.deployments,
                old.tenant,
                old.team,
                old.expires_at,
                old.meta,
            )
            grace_end = now + timedelta(seconds=grace_s)
            ends = grace_end if old.expires_at is None else min(_aware(old.expires_at), grace_end)
            session.add(new)
            await session.flush()
            result = await session.execute(
                update(KeyRow)
                .where(
                    KeyRow.id == key_id,
                    KeyRow.replaced_by.is_(None),
                    KeyRow.revoked_at.is_(None),
                )
                .values(replaced_by=new.id, expires_at=ends)
            )
            if result.rowcount == 0:  # type: ignore[attr-defined]
                await session.rollback()
                raise Conflict(
                    f"key '{key_id}' was already rotated; rotate its replacement instead"
                )
            await session.commit()
            return secret, _entity(new)


def new_secret() -> str:
    """A new key secret: the prefix and 256 random bits, URL-safe."""
    return KEY_PREFIX + secrets.token_urlsafe(32)


def _new_row(
    secret: str,
    name: str,
    roles: Sequence[str],
    deployments: Sequence[str] | None,
    tenant: str,
    team: str | None,
    expires_at: datetime | None,
    metadata: Mapping[str, Any] | None,
) -> KeyRow:
    return KeyRow(
        id="key_" + secrets.token_hex(8),
        key_hash=hash_key(secret),
        prefix=secret[:10],
        name=name,
        roles=list(roles),
        deployments=list(deployments) if deployments is not None else None,
        tenant=tenant,
        team=team,
        meta=dict(metadata) if metadata else None,
        created_at=datetime.now(UTC),
        expires_at=expires_at,
    )
