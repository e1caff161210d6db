"""An in-memory retriever for tests (the edge a retrieval service stands at): a few fixed
chunks per tenant, ranked by shared words with the query. ``build`` is what
``prompts.retriever: tests.prompts.memory_retriever:build`` calls in a test server."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from bastion.core.principal import Principal


@dataclass(frozen=True, slots=True)
class Chunk:
    document_id: str
    chunk_id: str
    text: str
    tenant: str | None = None  # None: every tenant may read it
    meta: Mapping[str, Any] = field(default_factory=dict)
    score: float = 0.0


HANDBOOK = (
    Chunk("refunds.md", "0", "Refunds are paid within fourteen days of the returned parcel."),
    Chunk("refunds.md", "1", "Refunds for digital goods need a support ticket first."),
    Chunk("shipping.md", "0", "Parcels ship from Rotterdam every weekday before noon."),
    Chunk("secret.md", "0", "Acme internal refunds escalate to Dana.", tenant="acme"),
)


def _words(text: str) -> set[str]:
    return {w.lower() for w in re.findall(r"\w{3,}", text)}


class MemoryRetriever:
    def __init__(self, chunks: Sequence[Chunk] = HANDBOOK) -> None:
        self.chunks = tuple(chunks)
        self.queries: list[tuple[str, str, int]] = []

    async def retrieve(
        self,
        collection: str,
        query: str,
        k: int,
        filters: Mapping[str, Any] | None,
        principal: Principal,
    ) -> Sequence[Chunk]:
        self.queries.append((collection, query, k))
        wanted = _words(query)
        scored = []
        for c in self.chunks:
            if c.tenant is not None and c.tenant != principal.tenant:
                continue
            if filters and any(c.meta.get(key) != value for key, value in filters.items()):
                continue
            overlap = len(wanted & _words(c.text)) / max(1, len(wanted))
            if overlap > 0:
                scored.append(Chunk(c.document_id, c.chunk_id, c.text, c.tenant, c.meta, overlap))
        scored.sort(key=lambda c: (-c.score, c.document_id, c.chunk_id))
        return scored[:k]


def build() -> MemoryRetriever:
    return MemoryRetriever()
