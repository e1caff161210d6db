"""The per-request record and its one JSON log line (no payloads; free text PII-scrubbed)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import structlog

Scrubber = Callable[[Any], Any]
"""Redacts PII in a string (or a JSON-like value); ``bastion.guards.PiiDetector().scrub`` fits."""

_MAX_SCRUBBED_NAMES = 1024
_MAX_TEXT = 500


@dataclass(frozen=True, slots=True)
class RequestRecord:
    """What one request did, as metrics, the log line and the request span see it.

    ``deployment`` is the served name when it is known, else ``_unknown`` (labels stay
    bounded whatever clients send); ``requested`` keeps the raw name for the log. Durations
    are seconds: ``total_s`` from the adapter's parse to the last byte (streams included),
    ``queue_s`` waiting for a bulkhead slot, ``backend_s`` in the model or upstream call (for
    a stream: to open it), ``first_chunk_s`` a stream's time to its first chunk. ``status`` is
    the HTTP status the client got.
    """

    request_id: str
    api: str
    deployment: str
    requested: str
    version: int | None
    model: str | None
    status: int
    error_type: str | None
    error_message: str | None
    rate_limited: bool
    key_id: str | None
    principal: str | None
    tenant: str | None
    total_s: float
    queue_s: float | None
    backend_s: float | None
    first_chunk_s: float | None
    prompt_tokens: int | None
    completion_tokens: int | None
    cost_usd: float | None
    cache: str | None
    fallback: str | None
    served_by: str | None
    review: str | None
    review_flags: int
    stream: bool
    inputs: int
    trace_id: str | None
    cost_estimated: bool = False  # tokens (and so cost_usd) estimated: no usage from upstream
    continued: tuple[str, ...] = ()  # a broken stream's switches to other upstreams
    upstream_costs: dict[str, float] | None = None  # USD by upstream, when several were paid
    prompt: str | None = None  # the prompt template version rendered: NAME@VERSION
    citations: tuple[str, ...] = ()  # DOCUMENT#CHUNK of each chunk its retrieval step used


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 3)


class RequestLog:
    """Writes ``request_completed``: one line per request, fields as in docs/observability.md.

    Free text (error messages, key names, unknown deployment names) goes through ``scrub``
    (the guards' PII detector, wired in ``build_services``); without one it is logged as is.
    Inputs and outputs are never logged.
    """

    def __init__(self, scrub: Scrubber | None = None) -> None:
        self._scrub = scrub
        self._logger = structlog.get_logger(__name__)
        self._names: dict[str, str] = {}

    def text(self, value: str) -> str:
        """``value`` cut to 500 characters and PII-scrubbed."""
        value = value[:_MAX_TEXT]
        return str(self._scrub(value)) if self._scrub is not None else value

    def _name(self, name: str) -> str:
        """Key names repeat on every request: scrub each once (a bounded memo)."""
        scrubbed = self._names.get(name)
        if scrubbed is None:
            if len(self._names) >= _MAX_SCRUBBED_NAMES:
                self._names.clear()
            scrubbed = self._names[name] = self.text(name)
        return scrubbed

    def fields(self, r: RequestRecord) -> dict[str, Any]:
        """The line's fields; absent facts (no tokens, no cache lookup) are left out."""
        out: dict[str, Any] = {
            "request_id": r.request_id,
            "trace_id": r.trace_id,
            "api": r.api,
            "deployment": r.deployment,
            "version": r.version,
            "status": r.status,
            "error_type": r.error_type,
            "key_id": r.key_id,
            "principal": self._name(r.principal) if r.principal else None,
            "tenant": r.tenant,
            "latency_ms": _ms(r.total_s),
            "queue_ms": _ms(r.queue_s),
            "backend_ms": _ms(r.backend_s),
            "stream": r.stream,
            "inputs": r.inputs,
        }
        optional: dict[str, Any] = {
            "requested": self.text(r.requested) if r.deployment != r.requested else None,
            "model": r.model if r.model != r.deployment else None,
            "error": self.text(r.error_message) if r.error_message else None,
            "prompt_tokens": r.prompt_tokens,
            "completion_tokens": r.completion_tokens,
            "first_chunk_ms": _ms(r.first_chunk_s),
            "cost_usd": r.cost_usd,
            "cost_estimated": True if r.cost_estimated else None,
            "cache": r.cache,
            "fallback": r.fallback,
            "served_by": r.served_by,
            "review": r.review,
            "review_flags": r.review_flags or None,
            "continued": list(r.continued) or None,
            "upstream_costs": r.upstream_costs,
            "prompt": r.prompt,
            "citations": list(r.citations) or None,
        }
        out.update((k, v) for k, v in optional.items() if v is not None)
        return out

    def emit(self, r: RequestRecord) -> None:
        logger = self._logger
        enabled = getattr(logger, "is_enabled_for", None)  # structlog's filtering loggers
        if enabled is not None and not enabled(logging.INFO):
            return  # the line would be dropped: do not build its fields
        logger.info("request_completed", **self.fields(r))
