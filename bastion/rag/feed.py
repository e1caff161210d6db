"""What every replica reads to keep its in-process index in step with a collection: the
change log after a revision, the current state of the documents it names (their facts, chunk
ids and vectors), and all of a collection's documents for a first load."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import select

from bastion.rag.visibility import DocFacts, meta_values
from bastion.store import Database
from bastion.store.rag_tables import RagChangeRow, RagChunkRow, RagDocumentRow

DIMENSIONS = 384


@dataclass(frozen=True, slots=True)
class LoadedDocument:
    """A document as the index needs it: its facts, chunk ids and vectors."""

    pk: int
    facts: DocFacts
    chunk_ids: list[int]
    vectors: np.ndarray[Any, np.dtype[np.float32]]


def facts_of(row: RagDocumentRow) -> DocFacts:
    acl = frozenset(row.acl) if row.acl else None
    return DocFacts(row.tenant, acl, meta_values(row.meta or {}))


class ChangeFeed:
    """The replica-facing reads of ``RagStore`` (which it is part of)."""

    db: Database

    async def changes(self, collection_id: int, after: int) -> list[tuple[int, int]]:
        """``(revision, document pk)`` changed after revision ``after``, in order."""
        async with self.db.session() as session:
            rows = await session.execute(
                select(RagChangeRow.revision, RagChangeRow.document_id)
                .where(RagChangeRow.collection_id == collection_id, RagChangeRow.revision > after)
                .order_by(RagChangeRow.revision)
            )
            return [(int(r), int(d)) for r, d in rows]

    async def load(self, document_pks: Sequence[int]) -> dict[int, LoadedDocument | None]:
        """The current state of these documents (None: deleted)."""
        out: dict[int, LoadedDocument | None] = dict.fromkeys(document_pks)
        if not document_pks:
            return out
        async with self.db.session() as session:
            docs = (
                await session.scalars(
                    select(RagDocumentRow).where(RagDocumentRow.id.in_(document_pks))
                )
            ).all()
            chunks = await session.execute(
                select(RagChunkRow.document_id, RagChunkRow.id, RagChunkRow.vector)
                .where(RagChunkRow.document_id.in_(document_pks))
                .order_by(RagChunkRow.document_id, RagChunkRow.ordinal)
            )
            by_doc: dict[int, list[tuple[int, bytes]]] = {}
            for doc_pk, chunk_id, vector in chunks:
                by_doc.setdefault(int(doc_pk), []).append((int(chunk_id), vector))
        for row in docs:
            got = by_doc.get(row.id, [])
            vectors = np.frombuffer(b"".join(v for _, v in got), dtype="<f4").reshape(
                len(got), DIMENSIONS
            )
            out[row.id] = LoadedDocument(row.id, facts_of(row), [c for c, _ in got], vectors)
        return out

    async def all_documents(self, collection_id: int) -> AsyncIterator[list[int]]:
        """The collection's document pks, in batches (a replica's first load)."""
        async with self.db.session() as session:
            pks = (
                await session.scalars(
                    select(RagDocumentRow.id)
                    .where(RagDocumentRow.collection_id == collection_id)
                    .order_by(RagDocumentRow.id)
                )
            ).all()
        for start in range(0, len(pks), 500):
            yield [int(p) for p in pks[start : start + 500]]
