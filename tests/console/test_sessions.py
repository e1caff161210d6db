"""Console sessions: the cookie holds a random id, the row its hash; a revoked key, an
expired session or a logout ends it."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from bastion.console.sessions import SESSION_TTL, SessionStore
from bastion.security import KeyStore, Principal
from bastion.store import Database
from bastion.store.console_tables import ConsoleSessionRow


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 5, 1, 9, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


async def test_a_key_session_lives_until_logout_and_stores_no_secret(database: Database) -> None:
    keys = KeyStore(database)
    secret, key = await keys.create("ops", ["operator"], tenant="acme")
    store = SessionStore(database, keys)
    session_id, session = await store.open(key.principal(), kind="key")
    assert session.principal.tenant == "acme" and len(session.csrf) >= 32
    async with database.session() as db:
        (row,) = list(await db.scalars(select(ConsoleSessionRow)))
    assert row.id_hash == hashlib.sha256(session_id.encode()).hexdigest()
    assert secret not in str(row.principal) and session_id not in row.id_hash

    found = await store.find(session_id)
    assert found is not None and found.principal.name == "ops" and found.csrf == session.csrf
    assert await store.find("not-a-session") is None and await store.find(None) is None
    await store.close(session_id)
    assert await store.find(session_id) is None


async def test_a_revoked_key_or_an_expired_session_ends_it(database: Database) -> None:
    keys, clock = KeyStore(database), Clock()
    _, key = await keys.create("ops", ["operator"])
    store = SessionStore(database, keys, clock)
    revoked_id, _ = await store.open(key.principal(), kind="key")
    await keys.revoke(key.id)
    assert await store.find(revoked_id) is None

    jwt_user = Principal("sub:ann", "ann", "globex", frozenset({"reviewer"}))
    until = clock.now + timedelta(minutes=10)  # the token's own exp comes first
    jwt_id, _ = await store.open(jwt_user, kind="jwt", until=until)
    found = await store.find(jwt_id)
    assert found is not None and found.principal == jwt_user
    clock.now += timedelta(minutes=11)
    assert await store.find(jwt_id) is None

    long_id, _ = await store.open(jwt_user, kind="jwt")
    clock.now += SESSION_TTL + timedelta(seconds=1)
    assert await store.find(long_id) is None
