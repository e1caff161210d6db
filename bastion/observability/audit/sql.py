"""The audit chain's SQL: chained batch appends serialised across processes, ordered reads.

The rows are ``store/audit_tables.py`` (the schema, beside its migrations); the queries are
the audit log's own, here, since ``bastion.observability`` sits above ``bastion.store``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from bastion.observability.audit.base import AuditQuery
from bastion.observability.audit.record import GENESIS, AuditEntry, AuditRecord, seal
from bastion.observability.audit.sqlite_writer import SqliteChainWriter
from bastion.store.actions_tables import ActionRow
from bastion.store.audit_tables import AuditRecordRow
from bastion.store.database import Database, is_memory_sqlite

# Any fixed 64-bit number: the PostgreSQL advisory lock that serialises chain appends.
_PG_AUDIT_LOCK = 0x42A5_A0D1


class SqlAuditStore:
    """The audit chain in SQLite or PostgreSQL.

    The last hash is always read inside the transaction that appends after it, and no other
    writer can interleave: on SQLite the batch runs under ``BEGIN IMMEDIATE`` (the database's
    write lock, across processes; ``observability/audit/sqlite_writer.py``), on PostgreSQL under a
    transaction-scoped advisory lock, so workers and replicas extend one chain.
    ``durability="fsync"`` waits for the disk flush at commit; ``"process"`` only for the
    database (SQLite ``synchronous=NORMAL``, PostgreSQL ``synchronous_commit=off``).
    """

    def __init__(self, db: Database, *, durability: str = "fsync") -> None:
        self.db = db
        self._fsync = durability == "fsync"
        self._sqlite: SqliteChainWriter | None = None
        self._engine: AsyncEngine | None = None
        if db.dialect == "sqlite" and not is_memory_sqlite(db.url):
            self._sqlite = SqliteChainWriter(str(db.url.database), fsync=self._fsync)
        elif db.dialect != "sqlite":
            self._engine = _postgres_writer(db, self._fsync)

    @property
    def sqlite_writer(self) -> SqliteChainWriter | None:
        """The one thread and connection that write to a SQLite file (None on PostgreSQL):
        the file's other steady writers go through it instead of contending for the lock."""
        return self._sqlite

    async def append(self, entries: Sequence[AuditEntry]) -> list[AuditRecord]:
        """Chain and insert ``entries`` in one transaction; returns them as stored."""
        if self._sqlite is not None:
            return await self._sqlite.append(entries)
        async with (self._engine or self.db.engine).begin() as conn:
            if conn.dialect.name == "postgresql":
                await conn.execute(select(func.pg_advisory_xact_lock(_PG_AUDIT_LOCK)))
            seq, prev = await _last(conn)
            records = []
            for entry in entries:
                seq += 1
                record = seal(entry, seq, prev)
                prev = record.hash
                records.append(record)
            await conn.execute(insert(AuditRecordRow), [r.row() for r in records])
            intents = [i.row() for e in entries for i in e.outbox]
            if intents:  # the decisions' action intents ride the same commit
                await conn.execute(_outbox_insert(conn.dialect.name), intents)
        return records

    async def query(self, q: AuditQuery) -> list[AuditRecord]:
        row = AuditRecordRow
        stmt = select(row).where(row.seq >= q.from_seq)
        for column, value in (
            (row.kind, q.kind),
            (row.action, q.action),
            (row.deployment, q.deployment),
            (row.tenant, q.tenant),
            (row.request_id, q.request_id),
        ):
            if value is not None:
                stmt = stmt.where(column == value)
        if q.since is not None:
            stmt = stmt.where(row.at >= q.since)
        async with self.db.session() as session:
            found = await session.scalars(stmt.order_by(row.seq).limit(q.limit))
            return [AuditRecord.from_row(r) for r in found]

    async def scan(self, from_seq: int = 1, page: int = 2000) -> AsyncIterator[AuditRecord]:
        """Every record from ``from_seq`` on, in ``seq`` order, one page per short session."""
        row, after = AuditRecordRow, from_seq - 1
        while True:
            stmt = select(row).where(row.seq > after).order_by(row.seq).limit(page)
            async with self.db.session() as session:
                records = [AuditRecord.from_row(r) for r in await session.scalars(stmt)]
            for record in records:
                yield record
            if len(records) < page:
                return
            after = records[-1].seq

    async def stale_payloads(
        self, active_key: str, after_seq: int, limit: int
    ) -> list[AuditRecord]:
        """Records after ``after_seq`` whose payload is not under ``active_key``."""
        row = AuditRecordRow
        stmt = (
            select(row)
            .where(row.seq > after_seq, row.payload.is_not(None))
            .where(row.payload_key.is_(None) | (row.payload_key != active_key))
            .order_by(row.seq)
            .limit(limit)
        )
        async with self.db.session() as session:
            return [AuditRecord.from_row(r) for r in await session.scalars(stmt)]

    async def replace_payloads(self, changes: Sequence[tuple[int, bytes, str]]) -> None:
        """Store re-encrypted payloads ``(seq, payload, key id)`` (outside the hash chain)."""
        if not changes:
            return
        row = AuditRecordRow
        async with self.db.session() as session:
            for seq, payload, key_id in changes:
                await session.execute(
                    update(row).where(row.seq == seq).values(payload=payload, payload_key=key_id)
                )
            await session.commit()

    async def aclose(self) -> None:
        """Close the writer (the Database belongs to the caller)."""
        if self._sqlite is not None:
            await self._sqlite.aclose()
        if self._engine is not None:
            await self._engine.dispose()


def _outbox_insert(dialect: str) -> Any:
    """INSERT … ON CONFLICT DO NOTHING: a repeated request id acts once."""
    from sqlalchemy.dialects import postgresql, sqlite

    module: Any = postgresql if dialect == "postgresql" else sqlite
    return module.insert(ActionRow).on_conflict_do_nothing()


async def _last(conn: AsyncConnection) -> tuple[int, str]:
    row = AuditRecordRow
    found = (
        await conn.execute(select(row.seq, row.hash).order_by(row.seq.desc()).limit(1))
    ).first()
    return (int(found[0]), str(found[1])) if found is not None else (0, GENESIS)


def _postgres_writer(db: Database, fsync: bool) -> AsyncEngine:
    """The appends' own small pool, apart from the app's (appends never queue behind reads).

    No pre-ping (one round trip per batch saved): a connection that died is found by the
    batch that uses it, which fails (503) and invalidates the pool; the next batch reconnects.
    """
    settings: dict[str, Any] = {}
    if not fsync:  # commits need not wait for the WAL flush
        if db.url.drivername.endswith("asyncpg"):
            settings["server_settings"] = {"synchronous_commit": "off"}
        else:
            settings["options"] = "-c synchronous_commit=off"
    return create_async_engine(
        db.url, pool_size=2, max_overflow=0, pool_recycle=1800, connect_args=settings
    )
