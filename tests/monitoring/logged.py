"""Helpers for the prediction-log and feedback tests: entries as the monitor stage makes them."""

from __future__ import annotations

import time
from typing import Any

from bastion.backends.base import Prediction
from bastion.guards.pii import PiiDetector
from bastion.monitoring.service import MonitoringService
from bastion.monitoring.stage import Entry
from bastion.settings.monitoring import MonitoringSettings
from bastion.store import Database


def entry(
    request_id: str,
    outputs: list[Any],
    *,
    inputs: list[Any] | None = None,
    deployment: str = "churn",
    version: int = 1,
    tenant: str = "default",
    confidences: list[float | None] | None = None,
    headers: dict[str, str] | None = None,
    llm: bool = False,
    at: float | None = None,
) -> Entry:
    confidences = confidences or [None] * len(outputs)
    return Entry(
        request_id=request_id,
        deployment=deployment,
        model=deployment,
        version=version,
        tenant=tenant,
        inputs=inputs if inputs is not None else [{"x": i} for i in range(len(outputs))],
        predictions=[Prediction(o, c) for o, c in zip(outputs, confidences, strict=True)],
        headers=headers or {},
        at=time.time() if at is None else at,
        llm=llm,
    )


def service(db: Database, **settings: Any) -> MonitoringService:
    """A service with drift off unless asked, and no wait for feedback on unknown ids."""
    settings.setdefault("drift", {"enabled": False})
    settings.setdefault("prediction_log", {"feedback_wait_s": 0})
    return MonitoringService(MonitoringSettings(**settings), db, scrub=PiiDetector().scrub)


async def log(svc: MonitoringService, *entries: Entry) -> None:
    """Write entries the way the background writer does (in one batch)."""
    await svc.recorder.handle(list(entries))
