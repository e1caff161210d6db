"""Keyword ranking for hybrid search: SQLite FTS5 (bm25, the index the ``rag_0002`` migration
keeps by triggers) or PostgreSQL full text (``ts_rank`` over ``to_tsvector('simple', …)``,
computed at query time over the collection's chunks: no index, so it costs a scan of the
collection's visible chunks). The tenant, access and filter rules are the same SQL condition
as every fetch; ``fuse`` merges keyword and vector rankings by reciprocal rank."""

from __future__ import annotations

import re
from collections.abc import Sequence

from sqlalchemy import column, func, literal_column, select, table, text

from bastion.core.principal import Principal
from bastion.rag.visibility import visible_clause
from bastion.store import Database
from bastion.store.rag_tables import RagChunkRow, RagDocumentRow

MAX_TERMS = 32
RRF_K = 60  # the usual reciprocal-rank-fusion constant


def terms(query: str) -> list[str]:
    """The query's words (letters and digits), lower-cased, at most ``MAX_TERMS``."""
    return list(dict.fromkeys(re.findall(r"\w+", query.lower())))[:MAX_TERMS]


async def keyword_hits(
    db: Database,
    collection_id: int,
    query: str,
    principal: Principal,
    filters: dict[str, frozenset[str]],
    limit: int,
) -> list[int]:
    """Chunk ids matching any of the query's words, best first (at most ``limit``)."""
    words = terms(query)
    if not words:
        return []
    chunk, doc = RagChunkRow, RagDocumentRow
    visible = visible_clause(collection_id, principal, filters)
    if db.dialect == "sqlite":
        fts = table("rag_chunks_fts", column("rowid"))
        statement = (
            select(chunk.id)
            .select_from(fts.join(chunk, chunk.id == fts.c.rowid))
            .join(doc, doc.id == chunk.document_id)
            .where(text("rag_chunks_fts MATCH :match"), visible)
            .order_by(literal_column("bm25(rag_chunks_fts)"))
            .limit(limit)
        ).params(match=" OR ".join(f'"{w}"' for w in words))
    else:
        wanted = func.to_tsquery("simple", " | ".join(words))
        vector = func.to_tsvector("simple", chunk.text)
        statement = (
            select(chunk.id)
            .join(doc, doc.id == chunk.document_id)
            .where(vector.op("@@")(wanted), visible)
            .order_by(func.ts_rank(vector, wanted).desc(), chunk.id)
            .limit(limit)
        )
    async with db.session() as session:
        return [int(c) for c in (await session.scalars(statement)).all()]


def fuse(
    vector: Sequence[tuple[int, float]], keyword: Sequence[int], weight: float, k: int
) -> list[tuple[int, float]]:
    """Reciprocal rank fusion: each list adds ``share / (60 + rank)``; ``weight`` is the
    keyword list's share. Best ``k`` ``(chunk id, fused score)``."""
    scores: dict[int, float] = {}
    for rank, (chunk, _) in enumerate(vector):
        scores[chunk] = scores.get(chunk, 0.0) + (1 - weight) / (RRF_K + rank + 1)
    for rank, chunk in enumerate(keyword):
        scores[chunk] = scores.get(chunk, 0.0) + weight / (RRF_K + rank + 1)
    return sorted(scores.items(), key=lambda item: (-item[1], item[0]))[:k]
