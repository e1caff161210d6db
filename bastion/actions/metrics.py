"""The action layer's Prometheus metrics, on the app's own registry."""

from __future__ import annotations

from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class ActionMetrics:
    def __init__(self, registry: CollectorRegistry | None) -> None:
        r = registry or CollectorRegistry()
        self.attempts: Any = Counter(
            "bastion_action_attempts",
            "Delivery attempts of actions, by destination and verdict",
            ["destination", "outcome"],
            registry=r,
        )
        self.latency: Any = Histogram(
            "bastion_action_attempt_seconds",
            "Latency of one delivery attempt",
            ["destination"],
            buckets=_BUCKETS,
            registry=r,
        )
        self.backlog: Any = Gauge(
            "bastion_actions", "Actions in the outbox, by status", ["status"], registry=r
        )
        self.oldest_due_s: Any = Gauge(
            "bastion_actions_oldest_due_seconds",
            "Age of the oldest action that is due and not delivered",
            registry=r,
        )
        self.intake_in_flight: Any = Gauge(
            "bastion_intake_in_flight",
            "NATS requests being processed, by deployment",
            ["deployment"],
            registry=r,
        )
        self.intake_pending: Any = Gauge(
            "bastion_intake_queue_depth",
            "NATS requests waiting in the durable consumer, by deployment",
            ["deployment"],
            registry=r,
        )
        self.intake_age_s: Any = Gauge(
            "bastion_intake_queue_age_seconds",
            "Age of the last NATS request taken when it was taken, by deployment",
            ["deployment"],
            registry=r,
        )
        self.intake_requests: Any = Counter(
            "bastion_intake_requests",
            "NATS requests processed, by deployment and outcome",
            ["deployment", "outcome"],
            registry=r,
        )
