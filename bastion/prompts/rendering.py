"""A prompt call made ready: variables checked, the retrieval step run, messages rendered."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bastion.errors import InvalidRequest, ModelNotReady
from bastion.prompts.base import RetrievedChunk, Retriever
from bastion.prompts.entities import Citation, PromptVersion, RetrievalStep
from bastion.prompts.template import check_variables, fill, render, untrusted

if TYPE_CHECKING:
    from bastion.core.principal import Principal


@dataclass(frozen=True, slots=True)
class Rendered:
    """What a prompt version makes of one set of variables."""

    version: PromptVersion
    alias: str | None
    messages: list[dict[str, str]]
    citations: tuple[Citation, ...]
    untrusted: tuple[str, ...]  # the client's values, screened as untrusted input
    overrides: Mapping[str, Any] = field(default_factory=dict)  # a chat body's own fields

    @property
    def model(self) -> str:
        return self.version.template.model

    def body(self, *, stream: bool = False) -> dict[str, Any]:
        """The OpenAI chat body this renders to (the template's parameters included)."""
        body: dict[str, Any] = {
            **self.version.template.parameters,
            **self.overrides,
            "model": self.model,
            "messages": self.messages,
        }
        if stream:
            body["stream"] = True
        return body


def context_text(citations: Sequence[Citation]) -> str:
    """The retrieved chunks as the retrieval variable's text, each with its citation mark."""
    return "\n\n".join(f"[{c.index}] ({c.document}#{c.chunk}) {c.text}" for c in citations)


def _citations(chunks: Sequence[RetrievedChunk]) -> tuple[Citation, ...]:
    return tuple(
        Citation(i, str(c.document_id), str(c.chunk_id), float(c.score), str(c.text))
        for i, c in enumerate(chunks, start=1)
    )


async def _retrieve(
    step: RetrievalStep,
    values: Mapping[str, Any],
    retriever: Retriever | None,
    principal: Principal,
    ref: str,
) -> tuple[Citation, ...]:
    if retriever is None:
        raise ModelNotReady(
            f"prompt {ref} declares a retrieval step (collection '{step.collection}') but this "
            "server has no retrieval service; configure retrieval collections or register a "
            "version without one"
        )
    query = fill(step.query, values).strip()
    if not query:
        raise InvalidRequest(
            f"variables: the retrieval query of prompt {ref} is empty with these variables",
            details={"field": "variables"},
        )
    chunks = await retriever.retrieve(
        step.collection, query, step.k, dict(step.filters) or None, principal
    )
    return _citations(chunks[: step.k])


async def prepare(
    version: PromptVersion,
    variables: Any,
    *,
    alias: str | None,
    principal: Principal,
    retriever: Retriever | None,
) -> Rendered:
    """Check ``variables`` (400 naming a missing, extra or invalid one), run the retrieval
    step if the template has one, and render the messages."""
    template = version.template
    values = check_variables(template, variables, version.ref)
    filled: dict[str, Any] = dict(values)
    citations: tuple[Citation, ...] = ()
    if template.retrieval is not None:
        citations = await _retrieve(template.retrieval, values, retriever, principal, version.ref)
        filled[template.retrieval.into] = context_text(citations)
    return Rendered(version, alias, render(template, filled), citations, untrusted(values))
