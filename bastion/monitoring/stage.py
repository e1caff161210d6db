"""The monitor stage: after a successful call, hands its predictions to the background log."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import structlog

from bastion.pipeline.call import Call, Result
from bastion.pipeline.stage import Next

if TYPE_CHECKING:
    from bastion.backends.base import Prediction

log = structlog.get_logger(__name__)


@dataclass(slots=True)  # not frozen: built on every call (see docs/architecture.md)
class Entry:
    """One successful call as the prediction log and drift need it (references, no copies)."""

    request_id: str
    deployment: str
    model: str
    version: int
    tenant: str
    inputs: Sequence[Any]
    predictions: Sequence[Prediction]
    headers: Mapping[str, str]
    at: float
    llm: bool
    feature_names: Sequence[str] | None = None


class Sink(Protocol):
    """Where entries go (``MonitoringService``): a non-blocking hand-over."""

    def offer(self, entry: Entry) -> bool: ...

    def segment_headers(self, deployment: str, headers: Mapping[str, str]) -> dict[str, str]: ...


class MonitorStage:
    """Logs each answered call's predictions and feeds drift, off the hot path.

    On the way out it builds one small ``Entry`` and offers it to a bounded queue (a full
    queue drops and counts, never waits); a background writer does the rest in batches. The
    model's own predictions are logged (``review_original`` when the decide stage replaced
    them), so accuracy measures the model. A stream is logged by a finisher once complete,
    with the answer its target assembled from the chunks it sent (``call.delivered``).
    Failures here never fail the request.
    """

    def __init__(self, sink: Sink) -> None:
        self._sink = sink

    async def __call__(self, call: Call, next: Next) -> Result:
        result = await next(call)
        if result.stream is None:
            self._offer(call, result)
            return result

        async def finish(final: Result | None, error: BaseException | None) -> None:
            if error is None and final is not None:
                self._offer(call, final)

        call.finishers.append(finish)
        return result

    def _offer(self, call: Call, result: Result) -> None:
        try:
            predictions = call.review_original or result.predictions
            if not predictions and call.delivered is not None:  # a stream: what it sent
                predictions = [call.delivered]
            if not predictions:
                return
            record = getattr(call.target, "record", None)
            signature = getattr(record, "signature", None)
            names = signature.get("feature_names") if isinstance(signature, Mapping) else None
            entry = Entry(
                request_id=call.request_id,
                deployment=call.deployment,
                model=result.model,
                version=result.version,
                tenant=call.tenant or "default",
                inputs=call.inputs,
                predictions=predictions,
                headers=self._sink.segment_headers(call.deployment, call.headers),
                at=time.time(),
                llm=call.llm is not None,
                feature_names=names if isinstance(names, list) else None,
            )
            self._sink.offer(entry)
        except Exception:  # monitoring must never turn an answer into an error
            log.exception("prediction_logging_failed", request_id=call.request_id)
