"""A deployment's review policy: which predictions go to a human, and what answers meanwhile."""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from typing import Any

from bastion.backends.base import Prediction
from bastion.settings.review import TRIGGERS, ReviewPolicySettings

REVIEW_HEADER = "x-bastion-review"


class ReviewPolicy:
    """Decides ``answer | review`` for each prediction of one deployment (pure, no I/O).

    Triggers: ``guard`` (the guard stage flagged the input), ``features`` (a feature
    binding with ``missing: review`` filled a missing feature), ``confidence`` (below the
    threshold), ``client`` (the client sent ``x-bastion-review: request`` and the policy
    allows it) and ``sample`` (QA sampling at ``sample_rate``).
    """

    def __init__(
        self, settings: ReviewPolicySettings, rng: Callable[[], float] | None = None
    ) -> None:
        self.settings = settings
        self._rng = rng or random.Random().random
        self._priorities = {str(k): v for k, v in settings.priorities.items()}

    @property
    def deployment(self) -> str:
        return self.settings.deployment

    def client_requested(self, headers: Mapping[str, str]) -> bool:
        asked = headers.get(REVIEW_HEADER, "").strip().lower() == "request"
        return asked and self.settings.client_may_request

    def triggers(
        self,
        prediction: Prediction,
        *,
        flagged: bool,
        requested: bool,
        missing_features: bool = False,
    ) -> tuple[str, ...]:
        """Why this prediction needs a human, most serious first; empty means answer it."""
        s = self.settings
        found: set[str] = set()
        if flagged and s.on_guard_flags:
            found.add("guard")
        if missing_features:
            found.add("features")
        confidence = prediction.confidence
        below = s.confidence_below
        if below is not None and confidence is not None and confidence < below:
            found.add("confidence")
        if requested:
            found.add("client")
        if s.sample_rate > 0 and self._rng() < s.sample_rate:
            found.add("sample")
        return tuple(t for t in TRIGGERS if t in found)

    def escalates(self, triggers: tuple[str, ...]) -> bool:
        """A stronger model is asked first only when low confidence is the sole reason."""
        return self.settings.escalate_to is not None and triggers == ("confidence",)

    def accepts_escalation(self, prediction: Prediction) -> bool:
        floor = self.settings.escalate_to.min_confidence if self.settings.escalate_to else None
        if floor is None:
            return True
        return prediction.confidence is not None and prediction.confidence >= floor

    def priority(self, triggers: tuple[str, ...]) -> int:
        table = self._priorities
        return self.settings.priority + max((table.get(t, 0) for t in triggers), default=0)

    def fallback(self, review_id: str, prediction: Prediction) -> Prediction:
        """What the client gets while the review is pending."""
        s = self.settings
        if s.fallback == "model":
            return prediction
        if s.fallback == "static":
            return Prediction(s.fallback_output)
        return Prediction({"status": "pending_review", "review_id": review_id})

    def decided(self, status: str, review_id: str, model_output: Any, final_output: Any) -> Any:
        """The answer once decided: the model's (approved), the correction, else a refusal."""
        if status == "approved":
            return model_output
        if status in ("corrected", "overridden"):
            return final_output
        if self.settings.fallback == "static":
            return self.settings.fallback_output
        return {"status": status, "review_id": review_id}
