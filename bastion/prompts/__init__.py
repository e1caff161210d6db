"""Prompt templates in the registry: immutable versions, aliases with history and rollback,
gated promotion, rendering with variables and an optional retrieval step (docs/prompts.md)."""

from bastion.prompts.base import Completer, RetrievedChunk, Retriever
from bastion.prompts.entities import Citation, PromptSummary, PromptTemplate, PromptVersion
from bastion.prompts.registry import PromptRegistry
from bastion.prompts.service import PromptService

__all__ = [
    "Citation",
    "Completer",
    "PromptRegistry",
    "PromptService",
    "PromptSummary",
    "PromptTemplate",
    "PromptVersion",
    "RetrievedChunk",
    "Retriever",
]
