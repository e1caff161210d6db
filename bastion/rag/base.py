"""The values retrieval hands around: citations, documents, chunking policies, filters, and
the ``Retriever`` protocol other concerns (prompt templates) call."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol

from bastion.core.principal import Principal
from bastion.errors import InvalidRequest

Filters = Mapping[str, Any]
"""Metadata filters: ``{key: value}`` or ``{key: [v1, v2]}`` (any of); keys are ANDed."""


@dataclass(frozen=True, slots=True)
class Citation:
    """One retrieved chunk: which document, which chunk, its text and its score."""

    collection: str
    document_id: str
    chunk_id: int
    chunk_index: int
    text: str
    score: float
    heading: str = ""
    source: str = ""
    metadata: Mapping[str, Any] = field(default_factory=dict)


class Retriever(Protocol):
    """What a retrieval step calls (the prompts helper's seam)."""

    async def retrieve(
        self,
        collection: str,
        query: str,
        k: int,
        filters: Mapping[str, Any] | None,
        principal: Principal,
    ) -> Sequence[Citation]: ...


Strategy = Literal["size", "heading"]


@dataclass(frozen=True, slots=True)
class ChunkPolicy:
    """How a collection cuts documents: ``size`` characters with ``overlap`` characters
    shared between neighbours; ``heading`` first splits Markdown (and HTML) at headings
    and then cuts long sections by size."""

    strategy: Strategy = "size"
    size: int = 800
    overlap: int = 100

    @classmethod
    def parse(cls, raw: Mapping[str, Any] | None) -> ChunkPolicy:
        raw = dict(raw or {})
        unknown = set(raw) - {"strategy", "size", "overlap"}
        if unknown:
            raise InvalidRequest(
                f"policy: unknown fields {sorted(unknown)}; use strategy, size, overlap",
                details={"field": "policy"},
            )
        policy = cls(
            strategy=raw.get("strategy", "size"),
            size=int(raw.get("size", 800)),
            overlap=int(raw.get("overlap", 100)),
        )
        if policy.strategy not in ("size", "heading"):
            raise InvalidRequest(
                f"policy.strategy: {policy.strategy!r} is not one of size, heading",
                details={"field": "policy.strategy"},
            )
        if not 50 <= policy.size <= 20_000 or not 0 <= policy.overlap < policy.size // 2:
            raise InvalidRequest(
                "policy: size must be 50-20000 characters and overlap below half the size "
                f"(got size {policy.size}, overlap {policy.overlap})",
                details={"field": "policy"},
            )
        return policy

    def as_dict(self) -> dict[str, Any]:
        return {"strategy": self.strategy, "size": self.size, "overlap": self.overlap}


@dataclass(frozen=True, slots=True)
class Collection:
    id: int
    name: str
    tenant: str | None
    policy: ChunkPolicy
    staleness_target_s: float | None
    revision: int
    created_at: datetime


@dataclass(frozen=True, slots=True)
class DocumentInfo:
    """A document as listed: freshness facts and access, never its text."""

    collection: str
    doc_id: str
    tenant: str | None
    source: str
    media_type: str
    content_sha256: str
    metadata: Mapping[str, Any]
    acl: Sequence[str] | None
    chunks: int
    indexed_at: datetime
    checked_at: datetime


Outcome = Literal["indexed", "replaced", "unchanged"]


@dataclass(frozen=True, slots=True)
class IndexResult:
    doc_id: str
    outcome: Outcome
    chunks: int
    content_sha256: str


@dataclass(frozen=True, slots=True)
class Chunk:
    ordinal: int
    text: str
    heading: str = ""
