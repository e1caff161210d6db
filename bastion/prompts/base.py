"""The prompts' seams: a retriever that fills a template's retrieval step, and what it returns.

A retrieval collection service (``bastion/rag``) plugs in by implementing ``Retriever``; the
prompts never import it. Tests use an in-memory retriever of their own.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from bastion.core.principal import Principal


class RetrievedChunk(Protocol):
    """One retrieved chunk: which document, which chunk of it, its score and its text
    (``bastion.rag.Citation`` is one)."""

    @property
    def document_id(self) -> str: ...

    @property
    def chunk_id(self) -> int | str: ...

    @property
    def score(self) -> float: ...

    @property
    def text(self) -> str: ...


class Retriever(Protocol):
    """Top-``k`` chunks of ``collection`` for ``query`` that ``principal`` may read (tenant
    and document access lists are the retriever's to enforce), best first."""

    async def retrieve(
        self,
        collection: str,
        query: str,
        k: int,
        filters: Mapping[str, Any] | None,
        principal: Principal,
    ) -> Sequence[RetrievedChunk]: ...


# One non-streamed chat completion on a model group: (group, OpenAI chat body) → response.
Completer = Callable[[str, dict[str, Any]], Awaitable[dict[str, Any]]]
