"""MonitoringService: builds the prediction log, feedback, accuracy and drift, and runs them."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import structlog

from bastion.errors import NotFound
from bastion.monitoring.accuracy import AccuracyReader
from bastion.monitoring.config import DriftSettings
from bastion.monitoring.feedback import FeedbackStore
from bastion.monitoring.labels import allowed_classes
from bastion.monitoring.monitor import DriftMonitor
from bastion.monitoring.operations import DriftOperations
from bastion.monitoring.outlets import Outlets
from bastion.monitoring.predictions import PredictionLog, Scrub, Sealer
from bastion.monitoring.recorder import Recorder, drift_settings_of
from bastion.monitoring.references import ReferenceStore
from bastion.monitoring.stage import Entry, MonitorStage
from bastion.monitoring.window_keeper import WindowKeeper
from bastion.monitoring.window_store import WindowStore
from bastion.monitoring.writer import BackgroundWriter
from bastion.settings.guards import GuardsSettings
from bastion.settings.monitoring import MonitoringSettings
from bastion.store import Database
from bastion.store.row_writer import RowWriter

if TYPE_CHECKING:
    from bastion.backends.base import TextEncoder

log = structlog.get_logger(__name__)

Key = tuple[str, int]
RECHECK_S = 60.0  # how often a version without a reference is looked up again
PURGE_EVERY_S = 3600.0


class MonitoringService:
    """Everything of monitoring one process holds; ``stage()`` goes into the pipeline.

    ``deployments`` (a ``DeploymentManager``) tells which version a deployment serves, so a
    version's reference profile can be loaded before its first request. ``encoder`` embeds
    text inputs for embedding drift (the bundled MiniLM). ``scrub`` redacts PII from payloads
    that may not be logged in clear when no encryption key is configured.
    """

    def __init__(
        self,
        settings: MonitoringSettings,
        db: Database,
        *,
        guards: GuardsSettings | None = None,
        deployments: Any = None,
        encoder: Callable[[], TextEncoder] | None = None,
        scrub: Scrub | None = None,
        known: Callable[[str], bool] | None = None,
        clock: Callable[[], float] = time.time,
        outlets: Outlets | None = None,
        rows: RowWriter | None = None,
    ) -> None:
        self.settings = settings
        self._known = known
        self._deployments = deployments
        self._encoder = encoder
        self._clock = clock
        self.outlets = outlets or Outlets()  # metrics, alerts, audit and the encryptor
        self.sealer = Sealer(lambda: self.outlets.encryptor, scrub)
        self.predictions = PredictionLog(db, self.sealer, rows=rows)
        self.feedback = FeedbackStore(
            db, self.predictions, wait_s=settings.prediction_log.feedback_wait_s
        )
        self.feedback.classes = self._classes
        self.references = ReferenceStore(db)
        self.monitor: DriftMonitor | None = None
        self.windows: WindowKeeper | None = None  # saves and resumes the live drift windows
        if settings.drift.enabled:
            self.monitor = DriftMonitor(DriftSettings(**drift_settings_of(settings)), clock=clock)
            if settings.drift.persist_interval_s > 0:
                store = WindowStore(db, uuid.uuid4().hex)
                every = settings.drift.persist_interval_s
                self.windows = WindowKeeper(self.monitor, store, interval_s=every)
        self.recorder = Recorder(
            settings, guards or GuardsSettings(), self.predictions, self.monitor, encoder
        )
        cfg = settings.prediction_log
        self.writer: BackgroundWriter[Entry] = BackgroundWriter(
            self._handle,
            queue_size=cfg.queue_size,
            batch_size=cfg.batch_size,
            linger_s=cfg.flush_interval_s,
            on_drop=self.outlets.dropped,
        )
        self.predictions.flush = self.writer.flush
        self.accuracy = AccuracyReader(settings, self.feedback)
        self.drift = DriftOperations(self)
        self.collecting: dict[Key, str] = {}  # live baselines being collected → model
        self._checked: dict[Key, float] = {}
        self._loop: asyncio.Task[None] | None = None
        self._saver: asyncio.Task[None] | None = None
        self._purged_at = 0.0

    # -- lifecycle ---------------------------------------------------------------------------

    def stage(self) -> MonitorStage:
        return MonitorStage(self)

    async def start(self) -> None:
        """Start the writer and the refresh loop; load the live versions' references."""
        self.writer.start()
        for deployment, model, version in self._live():
            await self.ensure_reference(deployment, version, model)
        if self._loop is None:
            self._loop = asyncio.get_running_loop().create_task(self._run())
        if self._saver is None and self.windows is not None:
            self._saver = asyncio.get_running_loop().create_task(self._save_windows())

    async def aclose(self) -> None:
        for task in (self._loop, self._saver):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self._loop = self._saver = None
        await self.writer.aclose()  # the rows still queued are observed, then saved below
        if self.windows is not None:
            try:
                await self.windows.close()
            except Exception:  # shutting down: the windows since the last save are lost
                log.exception("drift_windows_not_saved")

    # -- the stage's sink ----------------------------------------------------------------------

    async def settle(self, limit_s: float = 5.0) -> None:
        """Wait (up to ``limit_s``) for the entries queued so far to be logged and observed."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.writer.flush(), limit_s)

    def offer(self, entry: Entry) -> bool:
        return self.writer.offer(entry)

    def segment_headers(self, deployment: str, headers: Mapping[str, str]) -> dict[str, str]:
        segmenter = self.recorder.segmenter(deployment)
        return segmenter.headers_of(headers) if segmenter else {}

    async def _handle(self, batch: list[Entry]) -> None:
        prepared = await self.recorder.handle(batch)
        loaded = set()
        for (deployment, version), model in prepared.unmonitored.items():
            if await self.ensure_reference(deployment, version, model):
                loaded.add((deployment, version))
        again = [e for e in batch if (e.deployment, e.version) in loaded]
        if again:  # the rows that found no reference count once it is loaded
            await self.recorder.observe(again)

    # -- references ------------------------------------------------------------------------------

    async def ensure_reference(
        self, deployment: str, version: int, model: str, *, force: bool = False
    ) -> bool:
        """Load the stored reference of a version into the drift monitor (rate-limited);
        True when it replaced the windows. The same stored reference again keeps them: a read
        (a report) never discards the open window."""
        if self.monitor is None:
            return False
        key = (deployment, version)
        now = self._clock()
        last = self._checked.get(key)
        if not force and last is not None and now - last < RECHECK_S:
            return False
        self._checked[key] = now
        found = await self.references.newest(model, version, deployment)
        if found is None:
            return False
        source, profile = found
        if not self.monitor.set_reference(deployment, version, profile, source=source):
            return False
        log.info("drift_reference_loaded", deployment=deployment, version=version, model=model)
        if self.windows is not None:  # the windows saved before a restart (or by a replica gone)
            try:
                await self.windows.adopt(deployment, version)
            except Exception:
                log.exception("drift_windows_not_resumed", deployment=deployment, version=version)
        return True

    def known(self, deployment: str) -> bool:
        """Whether ``deployment`` is served here (any name when the app did not say)."""
        return self._known is None or self._known(deployment)

    def recorder_encoder(self) -> Callable[[], TextEncoder] | None:
        """The text encoder for embedding drift, when it is on."""
        return self._encoder if self.settings.drift.text_embeddings else None

    def _classes(self, deployment: str, version: int) -> list[str] | None:
        """The classes the loaded ``version`` of ``deployment`` may answer (None: unknown)."""
        if self._deployments is None:
            return None
        try:
            dep = self._deployments.get(deployment)
        except NotFound:
            return None
        loaded = dep.current if dep.current and dep.current.version == version else None
        loaded = loaded or dep.pinned.get(version)
        if loaded is None:
            return None
        return allowed_classes(loaded.signature, loaded.contract.output_schema)

    def live(self, deployment: str) -> tuple[str, int, list[str] | None] | None:
        """(model, version, feature names) the deployment serves in this process, or None."""
        if self._deployments is None:
            return None
        try:
            current = self._deployments.get(deployment).current
        except NotFound:
            return None
        if current is None:
            return None
        names = (current.record.signature or {}).get("feature_names")
        return current.model, current.version, names if isinstance(names, list) else None

    def _live(self) -> list[tuple[str, str, int]]:
        if self._deployments is None:
            return []
        out = []
        for dep in self._deployments.all():
            found = self.live(dep.name)
            if found is not None:
                out.append((dep.name, found[0], found[1]))
        return out

    # -- the refresh loop --------------------------------------------------------------------

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.settings.refresh_interval_s)
            try:
                await self.refresh()
            except Exception:  # a background task: nobody else would see this error
                log.exception("monitoring_refresh_failed")

    async def _save_windows(self) -> None:
        assert self.windows is not None
        while True:
            await asyncio.sleep(self.windows.interval_s)
            try:
                await self.windows.tick()
            except Exception:  # a background task: nobody else would see this error
                log.exception("drift_windows_save_failed")

    async def refresh(self) -> None:
        """Persist finished live baselines, set accuracy and drift gauges, purge old rows."""
        await self.drift.persist_collected()
        await self.drift.refresh()
        for deployment in await self.feedback.deployments():
            self.outlets.quality(deployment, await self.accuracy.figures(deployment))
        if self._clock() - self._purged_at >= PURGE_EVERY_S:
            await self.purge()

    async def purge(self) -> None:
        self._purged_at = self._clock()
        cfg = self.settings.prediction_log
        now = datetime.now(UTC)
        await self.predictions.purge(now - timedelta(days=cfg.retention_days))
        await self.feedback.purge(now - timedelta(days=cfg.feedback_retention_days))
        if self.windows is not None:
            await self.windows.purge()
