"""Guards from settings: each call gets its deployment's policy, or its route kind's default."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import structlog

from bastion.backends.base import SharedResources, TextEncoder
from bastion.errors import ConfigError
from bastion.guards.injection import InjectionScreen, ScreenModel
from bastion.guards.injection.fast import TokenWindow, quantized_copy
from bastion.guards.injection.shipped import shipped_ngram, train_ngram
from bastion.guards.pii import PiiDetector
from bastion.guards.stage import GuardPolicy, GuardStage
from bastion.settings.guards import GuardRuleSettings, GuardsSettings

if TYPE_CHECKING:
    from bastion.pipeline import Call, Next, Result

log = structlog.get_logger(__name__)
_MAX_CACHED = 4096


def is_llm_call(call: Call) -> bool:
    """LLM routes: the OpenAI-compatible adapter marks calls to a model group."""
    return call.llm is not None


def load_screen_parts(
    settings: GuardsSettings, resources: SharedResources, cache_dir: Path
) -> tuple[TextEncoder | None, ScreenModel]:
    """The screen's model: the shipped n-gram weights (trained now if they do not match the
    training set or toolchain) and, if ``settings.embedding_classifier``, the encoder (int8
    copy or the shared bundled one, behind a token window) with its classifier, trained
    now. CPU-bound: call it in a thread at start-up."""
    ngram = shipped_ngram()
    if ngram is None:
        log.info("injection_ngram_training")
        ngram = train_ngram()
    if not settings.embedding_classifier:
        return None, ScreenModel(None, ngram=ngram)
    from bastion.backends.encoder import (
        MiniLMEncoder,
        bundled_encoder_paths,
        bundled_encoder_sha256,
    )

    model_path, tokenizer = bundled_encoder_paths()
    base: TextEncoder
    if settings.quantized_encoder:
        sha = bundled_encoder_sha256()
        # the screen encodes a request's few texts at a time: without onnxruntime's arena a
        # long prompt's activations are freed after its run instead of held for good
        base = MiniLMEncoder(
            quantized_copy(model_path, cache_dir, sha), tokenizer, memory_arena=False
        )
    else:
        base = resources.text_encoder()
    encoder = TokenWindow(base, tokenizer, settings.classifier_tokens)
    log.info("injection_classifier_training", tokens=settings.classifier_tokens)
    model = ScreenModel.train(encoder, ngram=ngram)
    encoder.encode(["warm-up"])  # first-run allocations happen here, not on a request
    return encoder, model


class GuardPolicies:
    """The guard stage of the request path, with one policy per deployment.

    A call to an LLM group gets ``settings.llm`` (default: redact PII, flag injection), any
    other call ``settings.models`` (default: allow, off — the stage is skipped), each
    overridden field by field by the deployment's own entry in ``settings.policies``.
    """

    def __init__(
        self,
        settings: GuardsSettings,
        pii: PiiDetector | None = None,
        screen: Callable[[float], InjectionScreen] | None = None,
    ) -> None:
        self._settings = settings
        self._pii = pii or PiiDetector()
        self._screen = screen
        self._stages: dict[tuple[str, bool], GuardStage | None] = {}
        for rule in (
            settings.llm,
            settings.models,
            *(settings.policy(p.deployment, llm=True) for p in settings.policies),
        ):
            try:  # a bad policy fails the start-up, not a request
                _policy(rule)
            except ValueError as exc:
                raise ConfigError(f"guards: {exc}") from exc

    @property
    def detector(self) -> PiiDetector:
        """The one PII detector the guards use (shared with the other scrubbers)."""
        return self._pii

    def stage_for(self, deployment: str, *, llm: bool) -> GuardStage | None:
        key = (deployment, llm)
        if key not in self._stages:
            if len(self._stages) >= _MAX_CACHED:
                self._stages.clear()
            self._stages[key] = self._build(self._settings.policy(deployment, llm=llm))
        return self._stages[key]

    def _build(self, rule: GuardRuleSettings) -> GuardStage | None:
        if rule.pii == "allow" and rule.injection == "off":
            return None
        policy = _policy(rule)
        screen = None
        if rule.injection != "off":
            if self._screen is None:
                raise ValueError("an injection policy is set but no screen was built")
            screen = self._screen(rule.injection_threshold)
        return GuardStage(policy, self._pii, screen)

    async def __call__(self, call: Call, next: Next) -> Result:
        stage = self.stage_for(call.deployment, llm=is_llm_call(call))
        if stage is None:
            return await next(call)
        return await stage(call, next)


def _policy(rule: GuardRuleSettings) -> GuardPolicy:
    return GuardPolicy(
        pii=rule.pii,
        pii_types=tuple(rule.pii_types) if rule.pii_types is not None else None,
        injection=rule.injection,
        injection_threshold=rule.injection_threshold,
        untrusted_threshold=rule.injection_untrusted_threshold,
    )


def screens(encoder: TextEncoder | None, model: ScreenModel) -> Callable[[float], InjectionScreen]:
    """One screen per threshold, all sharing the encoder and the classifier."""
    made: dict[float, InjectionScreen] = {}

    def screen(threshold: float) -> InjectionScreen:
        if threshold not in made:
            made[threshold] = InjectionScreen(encoder, threshold, model=model)
        return made[threshold]

    return screen


def needs_screen(settings: GuardsSettings, *, llm_routes: bool) -> bool:
    """Whether any policy that can apply screens for injection (LLM defaults only count
    when there are LLM groups)."""
    kinds = [settings.models, *([settings.llm] if llm_routes else [])]
    if any(k.injection != "off" for k in kinds):
        return True
    return any(p.injection not in (None, "off") for p in settings.policies)


def build_guards(
    settings: GuardsSettings,
    resources: SharedResources,
    cache_dir: Path,
    *,
    llm_routes: bool,
    detector: PiiDetector | None = None,
) -> GuardPolicies:
    """The guard stage for the server (CPU-bound when a screen is needed: run in a thread).

    The injection screen is built only if some policy that can apply uses it; its encoder
    and classifier are loaded and warmed here, so no request pays for them.
    """
    detector = detector or PiiDetector()
    detector.detect("warm-up: +1 415 555 2671, bob@example.com")  # phone metadata loads once
    screen = None
    if needs_screen(settings, llm_routes=llm_routes):
        encoder, model = load_screen_parts(settings, resources, cache_dir)
        screen = screens(encoder, model)
    return GuardPolicies(settings, detector, screen)
