"""Prompt calls prepared: variables checked, the retrieval step fills its variable and
records citations; another tenant's chunks never reach the prompt."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest

from bastion.core.principal import Principal
from bastion.errors import InvalidRequest, ModelNotReady
from bastion.prompts.entities import PromptVersion
from bastion.prompts.rendering import prepare
from bastion.prompts.template import canonical, parse_template
from tests.prompts.memory_retriever import MemoryRetriever

SPEC: dict[str, Any] = {
    "model": "fast",
    "parameters": {"max_tokens": 40},
    "variables": {
        "type": "object",
        "properties": {"question": {"type": "string"}},
        "required": ["question"],
    },
    "messages": [
        {"role": "system", "content": "Answer from the context only.\n{{context}}"},
        {"role": "user", "content": "{{question}}"},
    ],
    "retrieval": {"collection": "handbook", "query": "{{question}}", "into": "context", "k": 2},
}
ANN = Principal("k1", "ann", "globex", frozenset({"client"}))
ACME = Principal("k2", "bob", "acme", frozenset({"client"}))


def version(spec: dict[str, Any] = SPEC) -> PromptVersion:
    stored, sha = canonical(spec)
    return PromptVersion(
        "support", 3, parse_template(stored), stored, sha, "", "ann", datetime.now(UTC)
    )


async def test_retrieval_fills_its_variable_and_cites_each_chunk() -> None:
    retriever = MemoryRetriever()
    rendered = await prepare(
        version(),
        {"question": "When are refunds paid?"},
        alias="production",
        principal=ANN,
        retriever=retriever,
    )
    assert retriever.queries == [("handbook", "When are refunds paid?", 2)]
    assert [(c.document, c.chunk) for c in rendered.citations] == [
        ("refunds.md", "0"),
        ("refunds.md", "1"),
    ]
    assert rendered.citations[0].score > 0
    system = rendered.messages[0]["content"]
    assert "[1] (refunds.md#0) Refunds are paid within fourteen days" in system
    assert rendered.untrusted == ("When are refunds paid?",)  # not the retrieved text
    body = rendered.body(stream=True)
    assert body["model"] == "fast" and body["max_tokens"] == 40 and body["stream"] is True


async def test_a_tenant_never_gets_another_tenants_chunk() -> None:
    question = {"question": "Who handles internal refunds escalate?"}
    theirs = await prepare(
        version(), question, alias=None, principal=ACME, retriever=MemoryRetriever()
    )
    ours = await prepare(
        version(), question, alias=None, principal=ANN, retriever=MemoryRetriever()
    )
    assert "secret.md" in {c.document for c in theirs.citations}
    assert "secret.md" not in {c.document for c in ours.citations}


async def test_bad_variables_never_reach_the_retriever() -> None:
    retriever = MemoryRetriever()
    with pytest.raises(InvalidRequest, match="'question' is required"):
        await prepare(version(), {}, alias=None, principal=ANN, retriever=retriever)
    assert retriever.queries == []


async def test_a_retrieval_step_without_a_retriever_is_a_503() -> None:
    with pytest.raises(ModelNotReady, match="no retrieval service"):
        await prepare(version(), {"question": "q"}, alias=None, principal=ANN, retriever=None)


@dataclass(frozen=True, slots=True)
class RagShaped:
    """The shape of a retrieval service's citation: an integer chunk id, more fields."""

    collection: str
    document_id: str
    chunk_id: int
    chunk_index: int
    text: str
    score: float


class RagShapedRetriever:
    async def retrieve(
        self, collection: str, query: str, k: int, filters: Any, principal: Principal
    ) -> list[RagShaped]:
        return [RagShaped(collection, "guide.md", 41, 0, "Refunds take fourteen days.", 0.8)]


async def test_any_chunk_with_document_and_chunk_ids_is_cited() -> None:
    retriever = RagShapedRetriever()
    rendered = await prepare(
        version(), {"question": "refunds?"}, alias=None, principal=ANN, retriever=retriever
    )
    assert [c.to_dict() for c in rendered.citations] == [
        {"index": 1, "document": "guide.md", "chunk": "41", "score": 0.8}
    ]
