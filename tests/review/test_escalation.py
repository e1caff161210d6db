"""SLA escalation: overdue items move to the second tier, then raise one alert; backlog gauge."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from bastion.backends.base import Prediction
from bastion.pipeline import Call
from bastion.review import ReviewService
from bastion.review.hooks import Hooks
from bastion.review.intake import Candidate
from bastion.services import Services
from tests.review.conftest import FakeClock, policy, principal


@dataclass
class Alerts:
    fired: list[dict[str, Any]] = field(default_factory=list)
    resolved: list[str] = field(default_factory=list)

    async def fire(self, rule: str, **kw: Any) -> None:
        self.fired.append({"rule": rule, **kw})

    async def resolve(self, dedupe_key: str) -> None:
        self.resolved.append(dedupe_key)


@dataclass
class Gauge:
    values: dict[str, float] = field(default_factory=dict)
    label: str = ""

    def labels(self, *, deployment: str) -> Gauge:
        self.label = deployment
        return self

    def set(self, value: float) -> None:
        self.values[self.label] = value


async def test_overdue_items_escalate_then_alert_once(make_services: Any) -> None:
    svc: Services = await make_services([policy(sla_s=60)])
    clock = FakeClock()
    alerts, gauge = Alerts(), Gauge()

    @dataclass
    class Metrics:
        review_backlog: Gauge

    hooks = Hooks(alerts=alerts, metrics=Metrics(gauge))
    review = ReviewService(svc.settings.review, svc.db, svc.deployments, clock=clock, hooks=hooks)
    call = Call("r1", "classifier", "predict", [{"confidence": 0.1}], False, time.perf_counter())
    candidates = [Candidate(0, Prediction({"label": "spam"}, 0.1), ("confidence",))]
    result = await svc.deployments.get("classifier").live().run(call)
    policy_ = review.policy("classifier")
    assert policy_ is not None
    [item] = await review.intake.submit(call, result, policy_, candidates)
    assert await review.sla.sweep() == 0
    clock.advance(61)
    assert await review.sla.sweep() == 1
    moved = await review.queue.get(item.id)
    assert moved is not None and moved.tier == 2
    assert await review.sla.sweep() == 0  # a fresh SLA at the second tier
    clock.advance(61)
    assert await review.sla.sweep() == 1
    assert await review.sla.sweep() == 0  # reported once
    assert [(a["rule"], a["dedupe_key"]) for a in alerts.fired] == [
        ("review_sla_breached", f"review_sla:{item.id}")
    ]
    await review.publish_backlog()
    assert gauge.values == {"classifier": 1}
    approver = principal("abe", "approver")
    await review.decide(item.id, approver, "approve", None, "")
    assert alerts.resolved == [f"review_sla:{item.id}"]
    await review.publish_backlog()
    assert gauge.values == {"classifier": 0}
    await review.aclose()
