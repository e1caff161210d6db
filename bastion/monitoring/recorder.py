"""Turns queued entries into prediction-log rows and drift observations, in a worker thread."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import numpy as np

from bastion.monitoring.features import features_of, outcome_of
from bastion.monitoring.payload_scrub import scrub_llm, scrub_llm_unguarded, scrub_unguarded
from bastion.monitoring.predictions import PredictionLog, prediction_aad
from bastion.monitoring.segments import Segmenter
from bastion.monitoring.stage import Entry
from bastion.settings.guards import GuardsSettings
from bastion.settings.monitoring import MonitoringSettings

if TYPE_CHECKING:
    from bastion.backends.base import TextEncoder
    from bastion.monitoring.monitor import DriftMonitor

Key = tuple[str, int]
SLICE_S = 0.0005  # the longest the writer holds the event loop at once


@dataclass(slots=True)
class Prepared:
    """What one batch gave: rows to insert, and versions drift does not watch yet."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    unmonitored: dict[Key, str] = field(default_factory=dict)  # (deployment, version) → model


class Recorder:
    """Seals payloads (scrubbed, or encrypted for opted-in tenants), labels segments,
    extracts features and observes drift.

    ``collecting`` holds the versions whose live baseline is being collected (they need
    embeddings before a reference exists).
    """

    def __init__(
        self,
        settings: MonitoringSettings,
        guards: GuardsSettings,
        log: PredictionLog,
        monitor: DriftMonitor | None,
        encoder: Callable[[], TextEncoder] | None = None,
    ) -> None:
        self.settings = settings
        self._guards = guards
        self._log = log
        self._monitor = monitor
        self._encoder = encoder
        self._segmenters = {d.deployment: Segmenter(d.segments) for d in settings.deployments}
        self._drift_off = {d.deployment for d in settings.deployments if not d.drift}
        self._redacts: dict[tuple[str, bool], bool] = {}
        self.collecting: set[Key] = set()

    def segmenter(self, deployment: str) -> Segmenter | None:
        return self._segmenters.get(deployment)

    async def handle(self, batch: list[Entry]) -> Prepared:
        """Rows and drift for a batch, then one insert. The work runs on the event loop in
        slices of at most ``SLICE_S`` (a worker thread would fight the loop for the GIL and
        cost more latency than it saves); only embeddings are computed in a thread."""
        out = Prepared()
        await self._each(batch, out, rows=self.settings.prediction_log.enabled)
        await self._log.write(out.rows)
        return out

    async def observe(self, batch: list[Entry]) -> None:
        """Drift only: entries of versions whose reference was just loaded."""
        await self._each(batch, Prepared(), rows=False)

    async def _each(self, batch: list[Entry], out: Prepared, *, rows: bool) -> None:
        embeddings: dict[int, list[Any]] = {}
        if any(self._texts(entry) for entry in batch):
            embeddings = await asyncio.to_thread(self._embeddings, batch)
        started = time.perf_counter()
        for n, entry in enumerate(batch):
            if rows:
                self._rows(entry, out)
            self._observe(entry, embeddings.get(n), out)
            if time.perf_counter() - started > SLICE_S:
                await asyncio.sleep(0)
                started = time.perf_counter()

    def in_clear(self, deployment: str, tenant: str, *, llm: bool) -> bool:
        """Whether payloads are stored as sent (encrypted, never in clear text): only for a
        tenant in ``prediction_log.clear_tenants`` (which needs an encryption key), not
        private, with ``inputs`` not ``scrubbed``. Every other payload is PII-scrubbed,
        whatever the route or guard policy."""
        cfg = self.settings.prediction_log
        if cfg.inputs == "scrubbed" or tenant in cfg.private_tenants:
            return False
        return tenant in cfg.clear_tenants

    def _guard_redacts(self, deployment: str, llm: bool) -> bool:
        """Whether the guard stage redacted every PII type in the inputs' text slots before
        the call was answered (then the log does not search those texts again)."""
        key = (deployment, llm)
        found = self._redacts.get(key)
        if found is None:
            policy = self._guards.policy(deployment, llm=llm)
            found = self._redacts[key] = policy.pii == "redact" and not policy.pii_types
        return found

    def _rows(self, entry: Entry, out: Prepared) -> None:
        at = datetime.fromtimestamp(entry.at, UTC)
        count = min(len(entry.inputs), len(entry.predictions))
        clear = self.in_clear(entry.deployment, entry.tenant, llm=entry.llm)
        keep_input = self.settings.prediction_log.inputs != "off"
        redacted = scrub_unguarded if self._guard_redacts(entry.deployment, entry.llm) else None
        if entry.llm:  # OpenAI's shapes: the protocol's ids and enums hold no personal data
            redacted = scrub_llm_unguarded if redacted else scrub_llm
        segmenter = self._segmenters.get(entry.deployment)
        for i in range(count):
            item, prediction = entry.inputs[i], entry.predictions[i]
            label, value = outcome_of(prediction.output)
            payload = {"input": item if keep_input else None, "output": prediction.output}
            aad = prediction_aad(entry.request_id, i) if clear else b""  # only an encryption's
            blob, mode = self._log.sealer.seal(payload, aad, clear=clear, redacted=redacted)
            out.rows.append(
                {
                    "request_id": entry.request_id,
                    "item_index": i,
                    "items": count,
                    "deployment": entry.deployment,
                    "model": entry.model,
                    "version": entry.version,
                    "tenant": entry.tenant,
                    "at": at,
                    "confidence": prediction.confidence,
                    "label": label,
                    "value": value,
                    "segments": segmenter.values(item, entry.headers) if segmenter else {},
                    "mode": mode,
                    "input_logged": keep_input and mode != "omitted",
                    "payload": blob,
                }
            )

    def _observe(self, entry: Entry, embedded: list[Any] | None, out: Prepared) -> None:
        monitor = self._monitor
        if monitor is None or entry.deployment in self._drift_off:
            return
        for i in range(min(len(entry.inputs), len(entry.predictions))):
            prediction = entry.predictions[i]
            label, value = outcome_of(prediction.output)
            row, _ = features_of(entry.inputs[i], entry.feature_names)
            seen = monitor.observe(
                entry.deployment,
                entry.version,
                row,
                prediction=label if label is not None else value,
                confidence=prediction.confidence,
                embedding=embedded[i] if embedded is not None else None,
                tenant=entry.tenant,
            )
            if not seen:
                out.unmonitored[(entry.deployment, entry.version)] = entry.model
                return

    def _texts(self, entry: Entry) -> bool:
        """Whether this entry's items are to be embedded for drift."""
        return (
            self._encoder is not None
            and self.settings.drift.text_embeddings
            and self._wants_embeddings(entry.deployment, entry.version)
        )

    def _embeddings(self, batch: list[Entry]) -> dict[int, list[Any]]:
        """Embeddings of the text items of entries whose drift reference watches embeddings
        (CPU-heavy: called in a worker thread)."""
        if self._encoder is None:
            return {}
        wanted: list[tuple[int, int, str]] = []
        for n, entry in enumerate(batch):
            if not self._texts(entry):
                continue
            for i in range(min(len(entry.inputs), len(entry.predictions))):
                _, text = features_of(entry.inputs[i], entry.feature_names)
                if text:
                    wanted.append((n, i, text))
        if not wanted:
            return {}
        matrix = np.asarray(self._encoder().encode([t for _, _, t in wanted]))
        out: dict[int, list[Any]] = {}
        for row, (n, i, _) in enumerate(wanted):
            slots = out.setdefault(n, [None] * len(batch[n].inputs))
            slots[i] = matrix[row]
        return out

    def _wants_embeddings(self, deployment: str, version: int) -> bool:
        if self._monitor is None or deployment in self._drift_off:
            return False
        if (deployment, version) in self.collecting:
            return True
        profile = self._monitor.reference(deployment, version)
        return profile is not None and profile.embedding is not None


def drift_settings_of(settings: MonitoringSettings) -> Mapping[str, Any]:
    """The ``DriftSettings`` keyword arguments of the drift section."""
    d = settings.drift
    return {
        "min_samples": d.min_samples,
        "alpha": d.alpha,
        "correction": d.correction,
        "min_psi": d.min_psi,
        "min_effect": d.min_effect,
        "bins": d.bins,
        "top_k": d.top_k,
        "reference_sample": d.reference_sample,
        "window_sample": d.window_sample,
        "window_s": d.window_s,
        "window_rows": d.window_rows,
        "max_windows": d.max_windows,
        "max_streams": d.max_streams,
    }
