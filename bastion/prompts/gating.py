"""Promotion gates for prompts: the models' gates (thresholds, no-regression, approvals with
separation of duties) over the prompt registry, reading reports and approvals kept under
``prompt:NAME``. Gates are configured in ``prompts.gates.NAME.ALIAS``."""

from __future__ import annotations

from collections.abc import Sequence

from bastion.errors import PromotionGateFailed
from bastion.evaluation import EvaluationService, GateFailure, PromotionGuard
from bastion.evaluation.gates import Gates
from bastion.prompts.entities import PromptVersion
from bastion.prompts.evaluate import SUBJECT_PREFIX, subject
from bastion.prompts.registry import PromptRegistry
from bastion.settings.prompts import PromptsSettings


class PromptSubjects:
    """The prompt registry as gates read it (names carry the ``prompt:`` prefix)."""

    def __init__(self, registry: PromptRegistry) -> None:
        self._registry = registry

    async def owner(self, name: str) -> str | None:
        return await self._registry.owner(name.removeprefix(SUBJECT_PREFIX))

    async def aliases(self, name: str) -> dict[str, int]:
        return await self._registry.aliases(name.removeprefix(SUBJECT_PREFIX))

    async def get_version(self, name: str, version: int) -> PromptVersion:
        return await self._registry.get_version(name.removeprefix(SUBJECT_PREFIX), version)


def _hints(text: str) -> str:
    """Gate messages name the models' commands; point them at the prompts' ones."""
    return text.replace(f"bastion eval run {SUBJECT_PREFIX}", "bastion prompts eval ").replace(
        f"bastion models approve {SUBJECT_PREFIX}", "bastion prompts approve "
    )


class PromptGuard:
    """Every gate of moving a prompt's alias, or PromotionGateFailed (409) naming each."""

    def __init__(
        self, settings: PromptsSettings, registry: PromptRegistry, evaluation: EvaluationService
    ) -> None:
        gates = {subject(name): aliases for name, aliases in settings.gates.items()}
        scoped = evaluation.settings.model_copy(update={"gates": gates})
        self.gates = Gates(
            scoped,
            PromptSubjects(registry),
            evaluation.sets,
            evaluation.reports,
            evaluation.approvals,
            separation=evaluation.separation,
        )
        self._guard = PromotionGuard(self.gates)

    async def authorize(
        self,
        name: str,
        version: int,
        alias: str,
        *,
        admin: bool,
        override: bool,
        reason: str,
        requester: str | None,
    ) -> Sequence[GateFailure]:
        try:
            return await self._guard.authorize(
                subject(name),
                version,
                alias,
                admin=admin,
                override=override,
                reason=reason,
                requester=requester,
            )
        except PromotionGateFailed as exc:
            raise PromotionGateFailed(
                _hints(exc.message).replace(f"of {subject(name)} ", f"of prompt {name} "),
                details={**exc.details, "prompt": name},
            ) from exc
