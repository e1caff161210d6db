"""Wiring of the prompt templates: their service over the evaluation service, a completer on
the gateway's model groups for eval runs, and the retriever of retrieval steps."""

from __future__ import annotations

import importlib
from typing import Any, cast

from bastion.core.deadline import Deadline
from bastion.errors import ConfigError, NotFound
from bastion.evaluation import EvaluationService
from bastion.gateway import Gateway
from bastion.prompts import PromptService, Retriever
from bastion.settings import Settings
from bastion.store import Database


def configured_retriever(ref: str | None) -> Retriever | None:
    """The retriever ``prompts.retriever`` names (``MODULE:FACTORY``), built once."""
    if ref is None:
        return None
    module, _, attr = ref.partition(":")
    try:
        factory = getattr(importlib.import_module(module), attr)
    except (ImportError, AttributeError) as exc:
        raise ConfigError(f"prompts.retriever: cannot load {ref!r}: {exc}") from exc
    return cast(Retriever, factory())


def build_prompts(
    settings: Settings,
    db: Database,
    evaluation: EvaluationService,
    gateway: Gateway,
    retriever: Retriever | None = None,
) -> PromptService | None:
    """Retrieval steps use the retriever ``prompts.retriever`` names, else ``retriever`` (the
    server's own retrieval collections, when it has them), else they answer 503."""
    if not settings.prompts.enabled:
        return None
    timeout = settings.prompts.eval_timeout_s

    async def complete(group: str, body: dict[str, Any]) -> dict[str, Any]:
        if group not in gateway:
            raise NotFound(f"no LLM model group named '{group}'; see GET /v1/models")
        response, _ = await gateway.group(group).complete("chat", body, Deadline.after(timeout))
        return response

    return PromptService(
        settings.prompts,
        settings.registry,
        db,
        evaluation,
        complete,
        configured_retriever(settings.prompts.retriever) or retriever,
    )
