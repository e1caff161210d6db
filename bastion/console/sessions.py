"""Console sessions: a random id in the cookie, its sha256 and the principal in the database.

The cookie never holds a key or a token. A session made with an API key re-reads the key on
every page (a revoked or expired key ends the session at once); one made with an IdP JWT
holds the principal its claims mapped to, and ends when the token would have.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete

from bastion.errors import NotFound
from bastion.security import KeyStore, Principal
from bastion.store import Database
from bastion.store.console_tables import ConsoleSessionRow
from bastion.store.tables import utcnow

SESSION_TTL = timedelta(hours=8)


@dataclass(frozen=True, slots=True)
class Session:
    """A logged-in browser: who it is and the CSRF token its forms carry."""

    principal: Principal
    csrf: str
    expires_at: datetime


def _digest(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


def _fields(p: Principal) -> dict[str, Any]:
    deployments = sorted(p.deployments) if p.deployments is not None else None
    return {
        "key_id": p.key_id,
        "name": p.name,
        "tenant": p.tenant,
        "roles": sorted(p.roles),
        "deployments": deployments,
        "team": p.team,
    }


def _principal(f: dict[str, Any]) -> Principal:
    deployments = f.get("deployments")
    return Principal(
        str(f["key_id"]),
        str(f["name"]),
        str(f["tenant"]),
        frozenset(f["roles"]),
        frozenset(deployments) if deployments is not None else None,
        f.get("team"),
    )


class SessionStore:
    def __init__(
        self, db: Database, keys: KeyStore, clock: Callable[[], datetime] = utcnow
    ) -> None:
        self._db = db
        self._keys = keys
        self._clock = clock

    async def open(
        self, principal: Principal, *, kind: str, until: datetime | None = None
    ) -> tuple[str, Session]:
        """A new session; returns the cookie's value (shown to nobody else) and the session."""
        now = self._clock()
        expires = min(now + SESSION_TTL, until) if until is not None else now + SESSION_TTL
        session_id, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        row = ConsoleSessionRow(
            id_hash=_digest(session_id),
            kind=kind,
            key_id=principal.key_id,
            principal=_fields(principal),
            csrf=csrf,
            created_at=now,
            expires_at=expires,
        )
        async with self._db.session() as session:
            session.add(row)
            await session.execute(
                delete(ConsoleSessionRow).where(ConsoleSessionRow.expires_at < now)
            )
            await session.commit()
        return session_id, Session(principal, csrf, expires)

    async def find(self, session_id: str | None) -> Session | None:
        """The live session of a cookie, or None (unknown, expired, or its key revoked)."""
        if not session_id or len(session_id) > 100:
            return None
        now = self._clock()
        async with self._db.session() as session:
            row = await session.get(ConsoleSessionRow, _digest(session_id))
        if row is None or _aware(row.expires_at) <= now:
            return None
        principal = _principal(row.principal)
        if row.kind == "key":
            try:
                key = await self._keys.get(row.key_id)
            except NotFound:  # the key is gone: so is the session
                return None
            if not key.active(now):
                return None
            principal = key.principal()  # roles or grants changed since login count now
        return Session(principal, row.csrf, row.expires_at)

    async def close(self, session_id: str | None) -> None:
        if not session_id:
            return
        async with self._db.session() as session:
            await session.execute(
                delete(ConsoleSessionRow).where(ConsoleSessionRow.id_hash == _digest(session_id))
            )
            await session.commit()


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
