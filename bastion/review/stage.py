"""The decide stage: after execute, each prediction is answered or sent to review."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

import structlog

from bastion.pipeline.call import MISSING_FEATURES, ReviewOutcome
from bastion.review.intake import Candidate
from bastion.review.openai_answers import as_openai, ask_logprobs, drained
from bastion.review.policy import REVIEW_HEADER, ReviewPolicy

REVIEW_ID_HEADER = "x-bastion-review-id"

if TYPE_CHECKING:
    from bastion.backends.base import Prediction
    from bastion.pipeline import Call, Next, Result
    from bastion.review.entities import ReviewItem
    from bastion.review.escalation import Escalated
    from bastion.review.service import ReviewService

log = structlog.get_logger(__name__)


class DecideStage:
    """Wraps execute. For a deployment with a review policy, each prediction that trips a
    trigger is first offered to a stronger model (low confidence only, if configured), then
    queued for a human. ``async`` answers at once with the policy's fallback; ``hold`` waits
    up to ``hold_s`` for the decision, then falls back.

    Sets ``call.review`` (ids and statuses, safe to show the client) and
    ``call.review_original`` (the model's own predictions), and the response headers
    ``x-bastion-review: pending | decided | escalated``, ``x-bastion-review-id`` (the items)
    and ``x-bastion-fallback: review`` when the answer is not the model's own. An escalated
    answer names the model and version that gave it. On the OpenAI routes every answer is a
    completion, and a chat stream is decided whole, then replayed (``openai_answers``);
    other streams are not reviewed.
    """

    def __init__(self, review: ReviewService) -> None:
        self._review = review

    async def __call__(self, call: Call, next: Next) -> Result:
        policy = self._review.policy(call.deployment)
        if policy is None:
            return await next(call)
        asked = ask_logprobs(call, policy)
        result = await next(call)
        if result.stream is not None:
            if call.llm is None or call.llm.kind != "chat":
                return result
            result = await drained(call, result)
        if not result.predictions:
            return result
        decided = await self._decide(call, policy, result)
        return as_openai(call, decided, strip=asked) if call.llm is not None else decided

    async def _decide(self, call: Call, policy: ReviewPolicy, result: Result) -> Result:
        flagged = any(f.guard != MISSING_FEATURES for f in call.review_flags)
        missing = any(f.guard == MISSING_FEATURES for f in call.review_flags)
        requested = policy.client_requested(call.headers)
        predictions = list(result.predictions)
        found = {}
        for i, p in enumerate(predictions):
            triggers = policy.triggers(
                p, flagged=flagged, requested=requested, missing_features=missing
            )
            if triggers:
                found[i] = triggers
        if not found:
            return result
        call.review_original = list(result.predictions)
        candidates, escalated, by = await self._escalate(call, policy, predictions, found)
        if by is not None and len(escalated) == len(predictions):  # every answer is by
            result = dataclasses.replace(result, model=by.model, version=by.version)
        if not candidates:
            call.review = ReviewOutcome("escalated", (), tuple(escalated))
            headers = {REVIEW_HEADER: "escalated", "x-bastion-fallback": "review"}
            return _with(result, predictions, headers)
        items = await self._review.intake.submit(call, result, policy, candidates)
        call.reviewed = frozenset(c.index for c in candidates)  # their actions await a human
        return await self._answer(call, result, policy, predictions, candidates, items, escalated)

    async def _escalate(
        self,
        call: Call,
        policy: ReviewPolicy,
        predictions: list[Prediction],
        found: dict[int, tuple[str, ...]],
    ) -> tuple[list[Candidate], list[int], Escalated | None]:
        """Ask the stronger model about low-confidence items; keep its answers that qualify."""
        to = policy.settings.escalate_to
        asked = [i for i, t in found.items() if policy.escalates(t)]
        answers: dict[int, Prediction] = {}
        got = None
        if to is not None and asked:
            got = await self._review.intake.escalation.ask(
                call, to, [call.inputs[i] for i in asked]
            )
            answers = dict(zip(asked, got.predictions, strict=True)) if got is not None else {}
        candidates, escalated = [], []
        for i, triggers in found.items():
            answer = answers.get(i)
            if answer is not None and policy.accepts_escalation(answer):
                predictions[i] = answer
                escalated.append(i)
                continue
            seen = None
            if answer is not None and to is not None:
                seen = {"to": to.to, "output": answer.output, "confidence": answer.confidence}
            candidates.append(Candidate(i, predictions[i], triggers, seen))
        return candidates, escalated, got if escalated else None

    async def _answer(
        self,
        call: Call,
        result: Result,
        policy: ReviewPolicy,
        predictions: list[Prediction],
        candidates: list[Candidate],
        items: list[ReviewItem],
        escalated: list[int],
    ) -> Result:
        decided: dict[str, ReviewItem] = {}
        if policy.settings.mode == "hold":
            timeout = policy.settings.hold_s
            if call.deadline is not None:
                timeout = max(0.0, min(timeout, call.deadline.remaining()))
            decided = await self._review.intake.wait([i.id for i in items], timeout)
        replaced = False
        public: list[dict[str, Any]] = []
        for c, item in zip(candidates, items, strict=True):
            done = decided.get(item.id)
            if done is not None:
                kept = c.prediction.confidence if done.status == "approved" else None
                predictions[c.index] = dataclasses.replace(
                    c.prediction,
                    output=self._review.answer(done, c.prediction.output),
                    confidence=kept,
                )
                status = done.status
            else:
                predictions[c.index] = policy.fallback(item.id, c.prediction)
                replaced |= predictions[c.index] is not c.prediction
                status = "pending_review"
            public.append(
                {"index": c.index, "review_id": item.id, "status": status, "triggers": c.triggers}
            )
        pending = any(p["status"] == "pending_review" for p in public)
        call.review = ReviewOutcome(
            "pending" if pending else "decided", tuple(public), tuple(escalated)
        )
        headers = {REVIEW_HEADER: "pending" if pending else "decided"}
        headers[REVIEW_ID_HEADER] = ",".join(item.id for item in items)
        if replaced or escalated:  # not the model's answer: caches must not keep it
            headers["x-bastion-fallback"] = "review"
        log.info("review_requested", deployment=call.deployment, items=len(items), pending=pending)
        return _with(result, predictions, headers)


def _with(result: Result, predictions: list[Prediction], headers: dict[str, str]) -> Result:
    return dataclasses.replace(
        result, predictions=predictions, headers={**result.headers, **headers}
    )
