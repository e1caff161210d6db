"""The decide stage through the real pipeline: triggers, fallbacks, hold mode, escalation."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from bastion.pipeline import Call
from bastion.pipeline.call import ReviewFlag
from bastion.security import ANONYMOUS
from bastion.services import Services
from tests.review.conftest import policy, principal


def _call(inputs: list[Any], *, headers: dict[str, str] | None = None, rid: str = "req-1") -> Call:
    return Call(
        request_id=rid,
        deployment="classifier",
        api="predict",
        inputs=inputs,
        batched=len(inputs) > 1,
        started_at=time.perf_counter(),
        headers=headers or {},
    )


async def test_confident_answers_pass_untouched(make_services: Any) -> None:
    svc: Services = await make_services([policy()])
    call = _call([{"confidence": 0.9}])
    result = await svc.pipeline(call)
    assert result.predictions[0].output == {"label": "spam"}
    assert call.review is None
    assert "x-bastion-review" not in result.headers


async def test_low_confidence_goes_to_the_queue_and_answers_pending(make_services: Any) -> None:
    svc: Services = await make_services([policy()])
    call = _call([{"confidence": 0.9}, {"confidence": 0.2}])
    result = await svc.pipeline(call)
    assert result.predictions[0].output == {"label": "spam"}
    pending = result.predictions[1].output
    assert pending["status"] == "pending_review"
    assert result.headers["x-bastion-review"] == "pending"
    assert result.headers["x-bastion-fallback"] == "review"
    review = call.review.to_dict()
    assert review["status"] == "pending"
    assert [(i["index"], i["review_id"]) for i in review["items"]] == [(1, pending["review_id"])]
    assert call.review_original[1].output == {"label": "spam"}
    assert svc.review is not None
    item = await svc.review.queue.get(pending["review_id"])
    assert item is not None
    assert (item.triggers, item.confidence, item.tenant) == (("confidence",), 0.2, "default")
    assert item.request_id == "req-1" and item.index == 1


async def test_model_and_static_fallbacks(make_services: Any) -> None:
    svc: Services = await make_services(
        [policy(fallback="static", fallback_output={"label": "ham"})]
    )
    result = await svc.pipeline(_call([{"confidence": 0.1}]))
    assert result.predictions[0].output == {"label": "ham"}
    svc2: Services = await make_services([policy(fallback="model")])
    result = await svc2.pipeline(_call([{"confidence": 0.1}]))
    assert result.predictions[0].output == {"label": "spam"}
    assert result.predictions[0].confidence == 0.1
    assert "x-bastion-fallback" not in result.headers
    assert result.headers["x-bastion-review"] == "pending"


async def test_client_request_guard_flags_and_sampling(make_services: Any) -> None:
    svc: Services = await make_services(
        [policy(confidence_below=None, client_may_request=True, on_guard_flags=True)]
    )
    asked = _call([{"confidence": 0.99}], headers={"x-bastion-review": "request"})
    await svc.pipeline(asked)
    assert asked.review.to_dict()["items"][0]["triggers"] == ("client",)
    flagged = _call([{"confidence": 0.99}])
    flagged.review_flags = [ReviewFlag("injection", 0.9)]
    await svc.pipeline(flagged)
    assert flagged.review.to_dict()["items"][0]["triggers"] == ("guard",)
    sampled_svc: Services = await make_services([policy(confidence_below=None, sample_rate=1.0)])
    sampled = _call([{"confidence": 0.99}], headers={"x-bastion-review": "request"})
    await sampled_svc.pipeline(sampled)  # the header is ignored: this policy does not allow it
    assert sampled.review.to_dict()["items"][0]["triggers"] == ("sample",)


async def test_hold_mode_answers_with_the_decision_made_meanwhile(make_services: Any) -> None:
    svc: Services = await make_services([policy(mode="hold", hold_s=30)])
    assert svc.review is not None
    reviewer = principal("rita", "reviewer")
    call = _call([{"confidence": 0.2}])
    request = asyncio.create_task(svc.pipeline(call))

    async def queued() -> list[dict[str, Any]]:
        assert svc.review is not None
        while True:  # the item appears once the stage has queued it
            found = await svc.review.browse(reviewer, status="pending", deployment=None, limit=5)
            if found:
                return found
            await asyncio.sleep(0.01)

    items = await asyncio.wait_for(queued(), 10)
    await svc.review.decide(items[0]["id"], reviewer, "correct", {"label": "ham"}, "not spam")
    result = await asyncio.wait_for(request, 10)
    assert result.predictions[0].output == {"label": "ham"}
    assert result.headers["x-bastion-review"] == "decided"
    assert call.review.to_dict()["items"][0]["status"] == "corrected"


async def test_hold_mode_falls_back_when_nobody_decides(make_services: Any) -> None:
    svc: Services = await make_services([policy(mode="hold", hold_s=0.05)])
    result = await svc.pipeline(_call([{"confidence": 0.2}]))
    assert result.predictions[0].output["status"] == "pending_review"


async def test_a_confident_stronger_model_answers_instead_of_a_human(make_services: Any) -> None:
    esc = {"to": "strong", "min_confidence": 0.9}
    svc: Services = await make_services([policy(escalate_to=esc)])
    assert svc.review is not None
    call = _call([{"confidence": 0.2}, {"confidence": 0.3, "hard": True}])
    call.principal = ANONYMOUS
    result = await svc.pipeline(call)
    assert result.predictions[0].output == {"label": "ham"}  # the strong model was sure
    assert result.predictions[1].output["status"] == "pending_review"  # it was not: a human
    review = call.review.to_dict()
    assert review["escalated"] == [0]
    item = await svc.review.show(review["items"][0]["review_id"], principal("a", "admin"))
    assert item["escalation"] == {"to": "strong", "output": {"label": "ham"}, "confidence": 0.4}
