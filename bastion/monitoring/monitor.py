"""DriftMonitor: per (deployment, version) references and live windows, in bounded memory."""

from __future__ import annotations

import random
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import structlog

from bastion.errors import NotFound
from bastion.monitoring.config import DriftSettings
from bastion.monitoring.drift import assess
from bastion.monitoring.profile import ReferenceProfile
from bastion.monitoring.report import DriftReport
from bastion.monitoring.stream import Baseline, DriftStream
from bastion.monitoring.window import Layout, WindowSnapshot

log = structlog.get_logger(__name__)

Key = tuple[str, int]


@dataclass(frozen=True, slots=True)
class SavedStream:
    """Windows of one stream to save: the open one first, then (``full``) every closed one."""

    deployment: str
    version: int
    tenant: str  # "" for the whole traffic
    source: int  # the stored reference the windows' bins follow
    windows: tuple[WindowSnapshot, ...]
    full: bool  # the closed windows changed too (a window closed, or windows were adopted)


class DriftMonitor:
    """Holds each version's reference profile and its rotating windows.

    ``observe`` is synchronous and cheap (a lock, a clock read and a few µs of counting), so
    the record stage calls it inline; ``report`` snapshots under the lock and computes outside
    it. At most ``settings.max_streams`` versions are tracked; past that the least recently
    observed one is dropped (and logged), so memory stays bounded across deployments.
    """

    def __init__(
        self,
        settings: DriftSettings | None = None,
        *,
        clock: Callable[[], float] = time.time,
        rng: random.Random | None = None,
    ) -> None:
        self.settings = settings or DriftSettings()
        self._clock = clock
        self._rng = rng or random.Random(0)
        self._streams: OrderedDict[Key, DriftStream | Baseline] = OrderedDict()
        self._latest: dict[str, int] = {}
        # the same windows per tenant, so that a tenant sees its own traffic's drift on a
        # deployment shared by every tenant (bounded like the streams: max_streams)
        self._tenants: OrderedDict[tuple[str, int, str], DriftStream] = OrderedDict()
        self._lock = threading.Lock()

    def set_reference(
        self,
        deployment: str,
        version: int,
        profile: ReferenceProfile,
        *,
        source: int | None = None,
    ) -> bool:
        """Start monitoring a version against ``profile`` (replacing any previous windows),
        unless it is already monitored against the stored reference ``source`` (the id of its
        row): then its windows are kept. True when the windows were replaced."""
        key = (deployment, version)
        with self._lock:
            current = self._streams.get(key)
            if isinstance(current, DriftStream) and source is not None and current.source == source:
                return False
        stream = DriftStream(profile, self.settings, clock=self._clock, rng=self._child_rng())
        stream.source = source
        with self._lock:
            self._put(key, stream)
        return True

    def tag(self, deployment: str, version: int, source: int) -> None:
        """Name the stored reference a version's windows are measured against (e.g. once a
        live baseline was saved), so that loading that reference again keeps them."""
        with self._lock:
            stream = self._streams.get((deployment, version))
            if isinstance(stream, DriftStream):
                stream.source = source

    def start_baseline(self, deployment: str, version: int, rows: int = 2000) -> None:
        """Build the reference from this version's next ``rows`` live rows, then monitor."""
        if rows < self.settings.min_samples:
            raise ValueError(f"a baseline needs at least {self.settings.min_samples} rows")
        baseline = Baseline(rows, self.settings, self._child_rng())
        with self._lock:
            self._put((deployment, version), baseline)

    def reference(self, deployment: str, version: int) -> ReferenceProfile | None:
        stream = self._streams.get((deployment, version))
        return stream.profile if isinstance(stream, DriftStream) else None

    def observe(
        self,
        deployment: str,
        version: int,
        row: Mapping[str, Any] | None,
        *,
        prediction: Any = None,
        confidence: Any = None,
        embedding: Any = None,
        tenant: str | None = None,
    ) -> bool:
        """Count one served row (its input features by name); False when not monitored.

        ``row`` is None for models without tabular inputs (e.g. text): then only the
        prediction, confidence and embedding are watched.
        """
        key = (deployment, version)
        row = {} if row is None else row
        with self._lock:
            stream = self._streams.get(key)
            if stream is None:
                return False
            self._streams.move_to_end(key)
            if isinstance(stream, DriftStream):
                reading = stream.read(row, prediction, confidence)
                stream.count(reading, embedding)
                if tenant is not None:  # the same profile: the row falls in the same bins
                    mine = self._tenant_stream(key, tenant, stream.profile)
                    mine.count(reading, embedding)
                return True
            if stream.observe(row, prediction, confidence, embedding):
                profile = stream.profile()
                rng = self._child_rng()
                fresh = DriftStream(profile, self.settings, clock=self._clock, rng=rng)
                self._streams[key] = fresh
                log.info("drift_baseline_completed", deployment=deployment, version=version)
            return True

    def report(
        self,
        deployment: str,
        version: int | None = None,
        *,
        windows: int = 1,
        tenant: str | None = None,
    ) -> DriftReport:
        """Drift of the open window (merged with ``windows - 1`` previous ones).

        ``version`` defaults to the version whose reference was set last for the deployment.
        ``tenant``: only that tenant's traffic (None: every tenant's).
        """
        with self._lock:
            version = self._latest.get(deployment) if version is None else version
            stream = self._streams.get((deployment, version)) if version is not None else None
            if not isinstance(stream, DriftStream):
                state = "collecting its baseline" if stream else "not monitored"
                raise NotFound(f"drift: {deployment} version {version} is {state}")
            assert version is not None
            if tenant is not None:
                stream = self._tenant_stream((deployment, version), tenant, stream.profile)
            snapshot = stream.snapshot(windows)
        return assess(snapshot, self.settings, deployment=deployment, version=version)

    def unsaved(self, *, everything: bool = False) -> list[SavedStream]:
        """Copies of the windows that changed since the last call (``everything``: all), for
        streams measured against a stored reference; the change flags are reset."""
        out = []
        with self._lock:
            for (deployment, version, tenant), stream in self._all_streams():
                if stream.source is None or not (everything or stream.changed):
                    continue
                full = everything or stream.rotated
                windows = stream.windows() if full else stream.windows()[:1]
                snaps = tuple(w.snapshot() for w in windows)
                out.append(SavedStream(deployment, version, tenant, stream.source, snaps, full))
                stream.changed = stream.rotated = False
        return out

    def unsaved_again(self, states: list[SavedStream]) -> None:
        """Mark streams changed again (their save failed), so the next save writes them."""
        keys = {(s.deployment, s.version, s.tenant): s.full for s in states}
        with self._lock:
            for key, stream in self._all_streams():
                if key in keys:
                    stream.changed = True
                    stream.rotated = stream.rotated or keys[key]

    def layout(self, deployment: str, version: int) -> tuple[int, Layout] | None:
        """(stored reference id, layout) of a monitored version, or None."""
        with self._lock:
            stream = self._streams.get((deployment, version))
            if not isinstance(stream, DriftStream) or stream.source is None:
                return None
            return stream.source, stream.layout

    def adopt(
        self, deployment: str, version: int, tenant: str, source: int, saved: list[WindowSnapshot]
    ) -> bool:
        """Merge saved windows into a version's (or a tenant's) windows; False when the version
        is no longer measured against the reference ``source`` (the windows would not fit)."""
        key = (deployment, version)
        with self._lock:
            stream = self._streams.get(key)
            if not isinstance(stream, DriftStream) or stream.source != source:
                return False
            if tenant:
                stream = self._tenant_stream(key, tenant, stream.profile)
            stream.adopt(saved)
        return True

    def _all_streams(self) -> Iterator[tuple[tuple[str, int, str], DriftStream]]:
        """Every stream (the lock held), with the source of its version's stream."""
        for (deployment, version), stream in self._streams.items():
            if isinstance(stream, DriftStream):
                yield (deployment, version, ""), stream
        for (deployment, version, tenant), mine in self._tenants.items():
            parent = self._streams.get((deployment, version))
            if isinstance(parent, DriftStream) and parent.profile is mine.profile:
                mine.source = parent.source
                yield (deployment, version, tenant), mine

    def monitored(self) -> list[Key]:
        """The (deployment, version) pairs tracked, least recently observed first."""
        with self._lock:
            return list(self._streams)

    def nbytes(self) -> int:
        """Approximate bytes held by all windows (bounded by the settings, not by traffic)."""
        with self._lock:
            streams = [s for s in self._streams.values() if isinstance(s, DriftStream)]
            return sum(s.nbytes() for s in streams)

    def _put(self, key: Key, stream: DriftStream | Baseline) -> None:
        self._streams[key] = stream
        self._streams.move_to_end(key)
        self._latest[key[0]] = key[1]
        while len(self._streams) > self.settings.max_streams:
            (deployment, version), _ = self._streams.popitem(last=False)
            if self._latest.get(deployment) == version:
                del self._latest[deployment]
            log.warning("drift_stream_evicted", deployment=deployment, version=version)

    def _tenant_stream(self, key: Key, tenant: str, profile: ReferenceProfile) -> DriftStream:
        """``tenant``'s windows of ``key`` (new, or renewed when the reference changed)."""
        found = self._tenants.get((*key, tenant))
        if found is None or found.profile is not profile:
            # its own seed: the deployment streams' random draws stay as without tenants
            rng = random.Random(f"{key[0]}|{key[1]}|{tenant}")
            found = DriftStream(profile, self.settings, clock=self._clock, rng=rng)
            self._tenants[(*key, tenant)] = found
            while len(self._tenants) > self.settings.max_streams:
                self._tenants.popitem(last=False)
        self._tenants.move_to_end((*key, tenant))
        return found

    def _child_rng(self) -> random.Random:
        return random.Random(self._rng.getrandbits(64))
