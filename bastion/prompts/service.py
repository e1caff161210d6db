"""The prompt service: registry, the serving view kept in step with it, gates and eval runs,
built once by the composition root."""

from __future__ import annotations

import asyncio
import contextlib

from bastion.evaluation import EvaluationService
from bastion.prompts.base import Completer, Retriever
from bastion.prompts.evaluate import PromptEvalRunner
from bastion.prompts.gating import PromptGuard
from bastion.prompts.live import PromptBook
from bastion.prompts.registry import PromptRegistry
from bastion.settings.core import RegistrySettings
from bastion.settings.prompts import PromptsSettings
from bastion.store import Database


class PromptService:
    def __init__(
        self,
        settings: PromptsSettings,
        registry_settings: RegistrySettings,
        db: Database,
        evaluation: EvaluationService,
        complete: Completer,
        retriever: Retriever | None = None,
    ) -> None:
        self.settings = settings
        self.registry = PromptRegistry(db)
        self.book = PromptBook(
            self.registry,
            poll_interval_s=registry_settings.poll_interval_s,
            max_cached=settings.max_cached_versions,
        )
        self.evaluation = evaluation
        self.guard = PromptGuard(settings, self.registry, evaluation)
        self.retriever = retriever
        self.runner = PromptEvalRunner(
            evaluation.reports,
            complete,
            retriever,
            concurrency=settings.eval_concurrency,
            timeout_s=settings.eval_timeout_s,
        )
        self._watch: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Read every alias now, then follow changes made by any replica."""
        await self.book.refresh(force=True)
        self._watch = asyncio.get_running_loop().create_task(self.book.watch())

    async def aclose(self) -> None:
        if self._watch is not None:
            self._watch.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watch
