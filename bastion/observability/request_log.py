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


@dataclass(slots=True)  # not frozen: built on every request (see docs/architecture.md)
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
            "latency_ms": round(r.total_s * 1000, 3),
            "queue_ms": None if r.queue_s is None else round(r.queue_s * 1000, 3),
            "backend_ms": None if r.backend_s is None else round(r.backend_s * 1000, 3),
            "stream": r.stream,
            "inputs": r.inputs,
        }
        if r.deployment != r.requested:
            out["requested"] = self.text(r.requested)
        if r.model is not None and r.model != r.deployment:
            out["model"] = r.model
        if r.error_message:
            out["error"] = self.text(r.error_message)
        self._optional(out, r)
        return out

    @staticmethod
    def _optional(out: dict[str, Any], r: RequestRecord) -> None:
        """The facts only some requests have, in the line's documented order."""
        if r.prompt_tokens is not None:
            out["prompt_tokens"] = r.prompt_tokens
        if r.completion_tokens is not None:
            out["completion_tokens"] = r.completion_tokens
        if r.first_chunk_s is not None:
            out["first_chunk_ms"] = round(r.first_chunk_s * 1000, 3)
        if r.cost_usd is not None:
            out["cost_usd"] = r.cost_usd
        if r.cost_estimated:
            out["cost_estimated"] = True
        for key in ("cache", "fallback", "served_by", "review"):
            value = getattr(r, key)
            if value is not None:
                out[key] = value
        if r.review_flags:
            out["review_flags"] = r.review_flags
        if r.continued:
            out["continued"] = list(r.continued)
        if r.upstream_costs is not None:
            out["upstream_costs"] = r.upstream_costs
        if r.prompt is not None:
            out["prompt"] = r.prompt
        if r.citations:
            out["citations"] = list(r.citations)

    def emit(self, r: RequestRecord) -> None:
        logger = self._logger
        enabled = getattr(logger, "is_enabled_for", None)  # structlog's filtering loggers
        if enabled is not None and not enabled(logging.INFO):
            return  # the line would be dropped: do not build its fields
        logger.info("request_completed", **self.fields(r))
