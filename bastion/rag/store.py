"""The SQL of retrieval collections (SQLite or PostgreSQL, the same statements): one
transaction per change, each bumping its collection's revision and logging the document it
touched, so that every replica's index can follow."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bastion.core.principal import Principal
from bastion.errors import Conflict, NotFound
from bastion.rag.base import Chunk, ChunkPolicy, Collection, DocumentInfo
from bastion.rag.feed import ChangeFeed
from bastion.rag.visibility import meta_values, visible_clause
from bastion.store import Database
from bastion.store.rag_tables import (
    RagAclRow,
    RagChangeRow,
    RagChunkRow,
    RagCollectionRow,
    RagDocumentRow,
    RagMetaRow,
)
from bastion.store.tables import utcnow


@dataclass(frozen=True, slots=True)
class NewDocument:
    doc_id: str
    tenant: str | None
    source: str
    media_type: str
    content_sha256: str
    meta: dict[str, Any]
    acl: list[str] | None
    indexed_by: str


@dataclass(frozen=True, slots=True)
class FetchedChunk:
    chunk_id: int
    ordinal: int
    heading: str
    text: str
    doc_id: str
    source: str
    meta: dict[str, Any]


def _collection(row: RagCollectionRow) -> Collection:
    return Collection(
        row.id,
        row.name,
        row.tenant,
        ChunkPolicy.parse(row.policy),
        row.staleness_target_s,
        row.revision,
        row.created_at,
    )


class RagStore(ChangeFeed):
    """Collections, documents and chunks: writes, listings, the checked fetch of search hits
    (what replicas read to follow the collection is in ``rag.feed``)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    # -- collections -----------------------------------------------------------------------

    async def create_collection(
        self,
        name: str,
        tenant: str | None,
        policy: ChunkPolicy,
        staleness_target_s: float | None,
        created_by: str,
    ) -> Collection:
        row = RagCollectionRow(
            name=name,
            tenant=tenant,
            policy=policy.as_dict(),
            staleness_target_s=staleness_target_s,
            revision=0,
            created_by=created_by,
            created_at=utcnow(),
        )
        async with self.db.session() as session:
            session.add(row)
            try:
                await session.commit()
            except IntegrityError as exc:
                raise Conflict(
                    f"a collection named '{name}' exists already; index into it or pick "
                    "another name"
                ) from exc
        return _collection(row)

    async def collection(self, name: str) -> Collection | None:
        async with self.db.session() as session:
            row = await session.scalar(
                select(RagCollectionRow).where(RagCollectionRow.name == name)
            )
            return _collection(row) if row is not None else None

    async def collections(self) -> list[Collection]:
        async with self.db.session() as session:
            rows = (await session.scalars(select(RagCollectionRow))).all()
            return [_collection(r) for r in rows]

    async def revision(self, collection_id: int) -> int:
        async with self.db.session() as session:
            query = select(RagCollectionRow.revision).where(RagCollectionRow.id == collection_id)
            return int(await session.scalar(query) or 0)

    async def _bump(self, session: AsyncSession, collection_id: int, document_pk: int) -> int:
        """The collection's next revision; the row lock orders concurrent writers, so
        revisions become visible in order."""
        revision = await session.scalar(
            update(RagCollectionRow)
            .where(RagCollectionRow.id == collection_id)
            .values(revision=RagCollectionRow.revision + 1)
            .returning(RagCollectionRow.revision)
        )
        if revision is None:
            raise NotFound("the collection was deleted meanwhile; create it again")
        await session.execute(
            insert(RagChangeRow).values(
                collection_id=collection_id, revision=revision, document_id=document_pk
            )
        )
        return int(revision)

    # -- documents -------------------------------------------------------------------------

    async def current(
        self, collection_id: int, doc_id: str
    ) -> tuple[int, str, str | None, int] | None:
        """``(pk, content sha256, tenant, chunks)`` of a document, if it exists."""
        async with self.db.session() as session:
            row = (
                await session.execute(
                    select(
                        RagDocumentRow.id,
                        RagDocumentRow.content_sha256,
                        RagDocumentRow.tenant,
                        RagDocumentRow.chunks,
                    ).where(
                        RagDocumentRow.collection_id == collection_id,
                        RagDocumentRow.doc_id == doc_id,
                    )
                )
            ).first()
            return (int(row[0]), str(row[1]), row[2], int(row[3])) if row is not None else None

    async def touch(self, document_pk: int, source: str) -> None:
        """An unchanged document was seen again: it is current as of now."""
        async with self.db.session() as session:
            await session.execute(
                update(RagDocumentRow)
                .where(RagDocumentRow.id == document_pk)
                .values(checked_at=utcnow(), source=source)
            )
            await session.commit()

    async def write(
        self,
        collection_id: int,
        doc: NewDocument,
        chunks: Sequence[Chunk],
        vectors: np.ndarray[Any, np.dtype[np.float32]],
    ) -> tuple[int, bool]:
        """Insert or replace a document and its chunks in one transaction; ``(pk, replaced)``."""
        now = utcnow()
        values = {
            "tenant": doc.tenant,
            "source": doc.source,
            "media_type": doc.media_type,
            "content_sha256": doc.content_sha256,
            "meta": doc.meta,
            "acl": doc.acl,
            "chunks": len(chunks),
            "indexed_at": now,
            "checked_at": now,
            "indexed_by": doc.indexed_by,
        }
        async with self.db.session() as session:
            pk = await session.scalar(
                select(RagDocumentRow.id).where(
                    RagDocumentRow.collection_id == collection_id,
                    RagDocumentRow.doc_id == doc.doc_id,
                )
            )
            replaced = pk is not None
            if pk is None:
                pk = await session.scalar(
                    insert(RagDocumentRow)
                    .values(collection_id=collection_id, doc_id=doc.doc_id, **values)
                    .returning(RagDocumentRow.id)
                )
            else:
                await session.execute(
                    update(RagDocumentRow).where(RagDocumentRow.id == pk).values(**values)
                )
                for table in (RagChunkRow, RagAclRow, RagMetaRow):
                    await session.execute(delete(table).where(table.document_id == pk))
            assert pk is not None
            await self._children(session, int(pk), doc, chunks, vectors)
            await self._bump(session, collection_id, int(pk))
            await session.commit()
        return int(pk), replaced

    async def _children(
        self,
        session: AsyncSession,
        pk: int,
        doc: NewDocument,
        chunks: Sequence[Chunk],
        vectors: np.ndarray[Any, np.dtype[np.float32]],
    ) -> None:
        if chunks:
            rows = [
                {
                    "document_id": pk,
                    "ordinal": c.ordinal,
                    "heading": c.heading[:500],
                    "text": c.text,
                    "vector": np.ascontiguousarray(v, dtype="<f4").tobytes(),
                }
                for c, v in zip(chunks, vectors, strict=True)
            ]
            await session.execute(insert(RagChunkRow), rows)
        if doc.acl:
            await session.execute(
                insert(RagAclRow), [{"document_id": pk, "entry": e} for e in doc.acl]
            )
        meta = [
            {"document_id": pk, "key": k, "value": v}
            for k, vals in meta_values(doc.meta).items()
            for v in sorted(vals)
        ]
        if meta:
            await session.execute(insert(RagMetaRow), meta)

    async def delete(self, collection_id: int, doc_id: str) -> bool:
        """Delete a document and its chunks at once; False if there was none."""
        async with self.db.session() as session:
            pk = await session.scalar(
                select(RagDocumentRow.id).where(
                    RagDocumentRow.collection_id == collection_id,
                    RagDocumentRow.doc_id == doc_id,
                )
            )
            if pk is None:
                return False
            for table in (RagChunkRow, RagAclRow, RagMetaRow):
                await session.execute(delete(table).where(table.document_id == pk))
            await session.execute(delete(RagDocumentRow).where(RagDocumentRow.id == pk))
            await self._bump(session, collection_id, int(pk))
            await session.commit()
            return True

    async def documents(
        self, collection: Collection, principal: Principal, limit: int, after: str | None
    ) -> list[DocumentInfo]:
        query = (
            select(RagDocumentRow)
            .where(visible_clause(collection.id, principal, {}))
            .order_by(RagDocumentRow.doc_id)
            .limit(limit)
        )
        if after is not None:
            query = query.where(RagDocumentRow.doc_id > after)
        async with self.db.session() as session:
            rows = (await session.scalars(query)).all()
        return [
            DocumentInfo(
                collection.name,
                r.doc_id,
                r.tenant,
                r.source,
                r.media_type,
                r.content_sha256,
                r.meta or {},
                r.acl,
                r.chunks,
                r.indexed_at,
                r.checked_at,
            )
            for r in rows
        ]

    async def fetch(
        self,
        collection_id: int,
        chunk_ids: Sequence[int],
        principal: Principal,
        filters: dict[str, frozenset[str]],
    ) -> dict[int, FetchedChunk]:
        """The chunks among ``chunk_ids`` that exist and ``principal`` may read under
        ``filters``: the authoritative check, inside the query."""
        if not chunk_ids:
            return {}
        query = (
            select(
                RagChunkRow.id,
                RagChunkRow.ordinal,
                RagChunkRow.heading,
                RagChunkRow.text,
                RagDocumentRow.doc_id,
                RagDocumentRow.source,
                RagDocumentRow.meta,
            )
            .join(RagDocumentRow, RagDocumentRow.id == RagChunkRow.document_id)
            .where(
                RagChunkRow.id.in_(list(chunk_ids)),
                visible_clause(collection_id, principal, filters),
            )
        )
        async with self.db.session() as session:
            rows = await session.execute(query)
            return {
                int(r[0]): FetchedChunk(int(r[0]), r[1], r[2], r[3], r[4], r[5], r[6] or {})
                for r in rows
            }

    async def freshness(self) -> list[tuple[Collection, int, datetime | None]]:
        """Per collection: its documents and the oldest ``checked_at``."""
        async with self.db.session() as session:
            stats = {
                int(cid): (int(n), oldest)
                for cid, n, oldest in await session.execute(
                    select(
                        RagDocumentRow.collection_id,
                        func.count(),
                        func.min(RagDocumentRow.checked_at),
                    ).group_by(RagDocumentRow.collection_id)
                )
            }
        out = []
        for c in await self.collections():
            n, oldest = stats.get(c.id, (0, None))
            out.append((c, n, _aware(oldest)))
        return out


def _aware(value: Any) -> datetime | None:
    """``min()`` over a UTC column comes back raw on SQLite (a string or a naive time)."""
    from datetime import UTC

    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    found: datetime = value if value.tzinfo else value.replace(tzinfo=UTC)
    return found
