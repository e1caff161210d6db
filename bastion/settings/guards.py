"""Settings of the guards: PII and prompt-injection policies, by route kind and deployment."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from bastion.settings.core import Section

PiiAction = Literal["redact", "block", "allow"]
InjectionAction = Literal["block", "flag", "log", "off"]


class GuardRuleSettings(Section):
    """What to do with PII (``pii_types``: None for every type) and suspected injection.

    ``injection_untrusted_threshold`` is the stricter threshold for untrusted content: tool
    and function results, and documents quoted inside a user's message (pasted e-mails,
    files, web pages); the lower of the two thresholds applies to them.
    """

    pii: PiiAction = "redact"
    pii_types: list[str] | None = None
    injection: InjectionAction = "flag"
    injection_threshold: float = Field(0.5, gt=0, le=1)
    injection_untrusted_threshold: float = Field(0.35, gt=0, le=1)


class DeploymentGuardSettings(Section):
    """One deployment's (or LLM group's) policy; unset fields keep the route kind's default."""

    deployment: str = Field(min_length=1)
    pii: PiiAction | None = None
    pii_types: list[str] | None = None
    injection: InjectionAction | None = None
    injection_threshold: float | None = Field(None, gt=0, le=1)
    injection_untrusted_threshold: float | None = Field(None, gt=0, le=1)


class GuardsSettings(Section):
    """Guard policies: ``llm`` for the OpenAI-compatible LLM routes, ``models`` for in-process
    deployments, ``policies`` per deployment. ``pii: allow`` with ``injection: off`` skips the
    stage entirely (the default for in-process models).

    The injection screen combines its rules with an n-gram model over the text's windows
    (shipped, trained ahead of time). ``embedding_classifier`` adds the bundled MiniLM
    encoder's classifier on the most suspicious window (off: it added no accuracy on the
    held-out sets and costs 3–8 ms per new text; trained at start-up when on); it sees the
    first ``classifier_tokens`` word pieces of that window, and ``quantized_encoder`` runs it
    on an int8 copy of the encoder (2–3× faster), built once into ``data_dir/cache``.
    """

    llm: GuardRuleSettings = GuardRuleSettings(pii="redact", injection="flag")
    models: GuardRuleSettings = GuardRuleSettings(pii="allow", injection="off")
    policies: list[DeploymentGuardSettings] = Field(default_factory=list)
    embedding_classifier: bool = False
    classifier_tokens: int = Field(48, ge=8, le=256)
    quantized_encoder: bool = True

    @field_validator("policies")
    @classmethod
    def _one_per_deployment(
        cls, value: list[DeploymentGuardSettings]
    ) -> list[DeploymentGuardSettings]:
        names = [p.deployment for p in value]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"one guard policy per deployment; repeated: {', '.join(dupes)}")
        return value

    def policy(self, deployment: str, *, llm: bool) -> GuardRuleSettings:
        """The effective policy of ``deployment``: its own fields over the route kind's."""
        base = self.llm if llm else self.models
        own = next((p for p in self.policies if p.deployment == deployment), None)
        if own is None:
            return base
        fields = own.model_dump(exclude={"deployment"}, exclude_unset=True)
        return base.model_copy(update=fields)
