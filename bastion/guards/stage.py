"""The guard stage: PII redact/block and prompt-injection screening on a Call's inputs."""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import structlog

from bastion.errors import BlockedByGuard
from bastion.guards.injection import InjectionScreen, InjectionVerdict
from bastion.guards.pii import ALL_TYPES, Entity, PiiDetector, redact_entities
from bastion.guards.texts import iter_texts, map_texts, screened_parts
from bastion.pipeline.call import GuardReport, ReviewFlag

if TYPE_CHECKING:
    from bastion.pipeline import Call, Next, Result

log = structlog.get_logger(__name__)

PiiAction = Literal["redact", "block", "allow"]
InjectionAction = Literal["block", "flag", "log", "off"]
# Above this many characters PII detection leaves the event loop too (detection costs
# ≈0.1 ms per 100 characters of prose, more where numbers and names are dense: ~2-5 ms here).
_INLINE_CHARS = 4_000


@dataclass(frozen=True, slots=True)
class GuardPolicy:
    """What to do on PII (``pii_types``: None for all types) and on suspected injection.

    ``untrusted_threshold`` is the stricter threshold for untrusted content: tool and
    function results, and documents quoted inside a user's message.
    """

    pii: PiiAction = "redact"
    pii_types: tuple[str, ...] | None = None
    injection: InjectionAction = "flag"
    injection_threshold: float = 0.5
    untrusted_threshold: float = 0.35

    def __post_init__(self) -> None:
        if self.pii not in ("redact", "block", "allow"):
            raise ValueError(f"pii: 'redact', 'block' or 'allow', got {self.pii!r}")
        if self.injection not in ("block", "flag", "log", "off"):
            raise ValueError(f"injection: 'block', 'flag', 'log' or 'off', got {self.injection!r}")
        unknown = set(self.pii_types or ()) - set(ALL_TYPES)
        if unknown:
            raise ValueError(f"pii_types: unknown {sorted(unknown)}; known: {', '.join(ALL_TYPES)}")
        if not 0.0 < self.injection_threshold <= 1.0:
            raise ValueError("injection_threshold must be in (0, 1]")
        if not 0.0 < self.untrusted_threshold <= 1.0:
            raise ValueError("untrusted_threshold must be in (0, 1]")


class GuardStage:
    """Runs before the model: redacts or blocks PII, then screens for prompt injection.

    Records ``call.guards`` (PII counts by type, the injection verdict); flagged injections
    also go to ``call.review_flags``. Error messages name
    entity types and scores, never the matched values.
    """

    def __init__(
        self, policy: GuardPolicy, pii: PiiDetector, injection: InjectionScreen | None = None
    ) -> None:
        if policy.injection != "off" and injection is None:
            raise ValueError(f"injection policy {policy.injection!r} needs an InjectionScreen")
        self._policy = policy
        self._pii = pii
        self._types = frozenset(policy.pii_types or ALL_TYPES) & frozenset(pii.types)
        self._screen = injection if policy.injection != "off" else None

    async def __call__(self, call: Call, next: Next) -> Result:
        texts = [t for item in call.inputs for t in iter_texts(item)]
        if sum(map(len, texts)) > _INLINE_CHARS:
            counts = await asyncio.to_thread(self._apply_pii, call, texts)
        else:
            counts = self._apply_pii(call, texts)
        call.guards = GuardReport(counts)
        if counts and self._policy.pii == "block":
            types = ", ".join(sorted(counts))
            raise BlockedByGuard(
                f"the input contains personal data or secrets ({types}); remove them and retry",
                details={"guard": "pii", "pii_types": sorted(counts)},
            )
        if self._screen is not None:
            parts = (
                [(t, False) for t in call.prompt.untrusted]  # a template's own text is trusted
                if call.prompt is not None
                else [p for item in call.inputs for p in screened_parts(item)]
            )
            if parts:
                verdicts = await self._verdicts([t for t, _ in parts])
                verdict = self._on_injection(call, verdicts, [u for _, u in parts])
                call.guards = GuardReport(counts, verdict)
        return await next(call)

    async def _verdicts(self, texts: list[str]) -> list[InjectionVerdict]:
        """Texts screened before are answered inline (a thread hop costs more than the
        lookups); a new text needs the rules and the encoder, in a thread. (Screening a short
        new text on the event loop when no encoder runs was tried twice, issue 20: 50 µs less
        in the guard stage alone, no gain in the whole app's CPU per request, neither with the
        pure-Python screen nor with the C one at ~30 µs a message; bench/RESULTS.md.)"""
        assert self._screen is not None
        known = self._screen.screen_known(texts)
        if known is not None:
            return known
        return await asyncio.to_thread(self._screen.screen_many, texts)

    def _apply_pii(self, call: Call, texts: list[str]) -> dict[str, int]:
        """Count the PII in ``texts`` (the call's text slots, in order) and, when redacting,
        replace ``call.inputs`` by redacted copies; inputs without any are kept as they are
        (no stage changes an input in place)."""
        counts: Counter[str] = Counter()
        found: dict[str, list[Entity]] = {}
        for text in texts:
            entities = [e for e in self._pii.detect(text) if e.type in self._types]
            if entities:
                counts.update(e.type for e in entities)
                found[text] = entities
        if found and self._policy.pii == "redact":

            def visit(text: str) -> str:
                entities = found.get(text)
                return redact_entities(text, entities).text if entities else text

            call.inputs = [map_texts(item, visit) for item in call.inputs]
        return dict(counts)

    def _threshold(self, untrusted: bool) -> float:
        policy = self._policy
        if untrusted:
            return min(policy.untrusted_threshold, policy.injection_threshold)
        return policy.injection_threshold

    def _on_injection(
        self, call: Call, verdicts: list[InjectionVerdict], untrusted: list[bool]
    ) -> dict[str, Any]:
        """The verdict furthest over (or least under) its threshold decides: untrusted
        content is held to the stricter one."""
        margins = [v.score - self._threshold(u) for v, u in zip(verdicts, untrusted, strict=True)]
        i = max(range(len(verdicts)), key=margins.__getitem__)
        worst = verdicts[i]
        flagged = margins[i] >= 0
        summary = {
            "score": worst.score,
            "flagged": flagged,
            "reasons": list(worst.reasons),
            "untrusted": untrusted[i],
        }
        if not flagged:
            return summary
        action = self._policy.injection
        log.warning(
            "prompt_injection_detected",
            request_id=call.request_id,
            deployment=call.deployment,
            score=worst.score,
            reasons=list(worst.reasons),
            action=action,
        )
        if action == "block":
            raise BlockedByGuard(
                f"the input was blocked by the prompt-injection screen (score {worst.score:.2f})",
                details={
                    "guard": "injection",
                    "score": worst.score,
                    "reasons": list(worst.reasons),
                },
            )
        if action == "flag":
            call.review_flags.append(ReviewFlag("injection", worst.score, tuple(worst.reasons)))
        return summary
