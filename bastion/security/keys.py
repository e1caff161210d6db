"""API keys: random secrets shown once and stored only as their sha256."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select, update

from bastion.errors import InvalidRequest, NotFound
from bastion.security.principal import ROLES, Principal
from bastion.store import Database
from bastion.store.tables import ApiKeyRow

KEY_PREFIX = "bst_"


def hash_key(plaintext: str) -> str:
    # Keys carry 256 random bits, so a fast hash is safe here, unlike for passwords.
    return hashlib.sha256(plaintext.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class ApiKey:
    id: str
    prefix: str
    name: str
    tenant: str
    roles: tuple[str, ...]
    deployments: tuple[str, ...] | None
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None

    def active(self, now: datetime) -> bool:
        if self.revoked_at is not None:
            return False
        return self.expires_at is None or _aware(self.expires_at) > now

    def principal(self) -> Principal:
        deployments = frozenset(self.deployments) if self.deployments is not None else None
        return Principal(self.id, self.name, self.tenant, frozenset(self.roles), deployments)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _entity(row: ApiKeyRow) -> ApiKey:
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
    )


class KeyStore:
    """Create, find, list and revoke keys; one session per operation."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def create(
        self,
        name: str,
        roles: Sequence[str],
        *,
        deployments: Sequence[str] | None = None,
        tenant: str = "default",
        expires_at: datetime | None = None,
        plaintext: str | None = None,
    ) -> tuple[str, ApiKey]:
        """Return ``(plaintext, key)``; the plaintext is never stored and cannot be recovered."""
        unknown = sorted(set(roles) - set(ROLES))
        if unknown or not roles:
            raise InvalidRequest(
                f"unknown or missing roles {unknown}; choose from: {', '.join(ROLES)}"
            )
        secret = plaintext or KEY_PREFIX + secrets.token_urlsafe(32)
        row = ApiKeyRow(
            id="key_" + secrets.token_hex(8),
            key_hash=hash_key(secret),
            prefix=secret[:10],
            name=name,
            roles=list(roles),
            deployments=list(deployments) if deployments is not None else None,
            tenant=tenant,
            created_at=datetime.now(UTC),
            expires_at=expires_at,
        )
        async with self._db.session() as session:
            session.add(row)
            await session.commit()
            return secret, _entity(row)

    async def find(self, plaintext: str) -> ApiKey | None:
        async with self._db.session() as session:
            row = await session.scalar(
                select(ApiKeyRow).where(ApiKeyRow.key_hash == hash_key(plaintext))
            )
            return _entity(row) if row else None

    async def list(self) -> list[ApiKey]:
        async with self._db.session() as session:
            rows = await session.scalars(select(ApiKeyRow).order_by(ApiKeyRow.created_at))
            return [_entity(r) for r in rows]

    async def any_admin(self) -> bool:
        return any("admin" in k.roles and k.revoked_at is None for k in await self.list())

    async def revoke(self, key_id: str) -> None:
        async with self._db.session() as session:
            result = await session.execute(
                update(ApiKeyRow)
                .where(ApiKeyRow.id == key_id, ApiKeyRow.revoked_at.is_(None))
                .values(revoked_at=datetime.now(UTC))
            )
            await session.commit()
            if result.rowcount == 0:  # type: ignore[attr-defined]
                raise NotFound(f"no active key with id '{key_id}'; see `bastion keys list`")
