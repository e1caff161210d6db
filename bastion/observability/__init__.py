"""Observability: structured logs, the per-request record, Prometheus metrics, tracing."""

from bastion.observability.metrics import Metrics
from bastion.observability.request_log import RequestLog, RequestRecord
from bastion.observability.stage import RecordStage, close_observability
from bastion.observability.tracing import Tracing

__all__ = [
    "Metrics",
    "RecordStage",
    "RequestLog",
    "RequestRecord",
    "Tracing",
    "close_observability",
]
