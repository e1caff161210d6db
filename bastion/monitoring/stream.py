"""One version's drift stream: its reference and the last N windows, rotated by time or count."""

from __future__ import annotations

import math
import random
from collections import deque
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from bastion.monitoring.config import DriftSettings
from bastion.monitoring.merging import merge
from bastion.monitoring.profile import ReferenceProfile, build_profile
from bastion.monitoring.window import Layout, Reading, Window, WindowSnapshot


class DriftStream:
    """The open window plus up to ``max_windows`` closed ones; older windows are dropped.

    Windows close on the writer's path only (``observe``), by time or by rows; reading a
    report (``snapshot``) never closes, rotates or drops one.

    Windows are aligned on multiples of ``window_s`` (so replicas agree on boundaries) and also
    close after ``window_rows`` rows when that is set. A window opens on the first row after
    the previous one closed: idle hours leave no empty windows behind.
    """

    def __init__(
        self,
        profile: ReferenceProfile,
        settings: DriftSettings,
        *,
        clock: Callable[[], float],
        rng: random.Random,
    ) -> None:
        self.profile, self.settings = profile, settings
        self.layout = Layout.of(profile)
        self._clock, self._rng = clock, rng
        self._closed: deque[Window] = deque(maxlen=settings.max_windows)
        self._current = self._open(clock(), by_count=False)
        self.source: int | None = None  # the id of the stored reference, when it has one
        # what changed since the windows were last saved: the open one's counts, or the list
        # (a new stream replaces whatever this process saved of the version's windows before)
        self.changed = self.rotated = True

    def observe(
        self, row: Mapping[str, Any], prediction: Any, confidence: Any, embedding: Any
    ) -> None:
        self.count(self.read(row, prediction, confidence), embedding)

    def read(self, row: Mapping[str, Any], prediction: Any, confidence: Any) -> Reading:
        """Where the row falls in this stream's histograms: valid for every stream of the same
        reference profile (``count``)."""
        return self._current.read(row, prediction, confidence)

    def count(self, reading: Reading, embedding: Any) -> None:
        now = self._clock()
        current = self._current
        limit = self.settings.window_rows
        if now >= current.end or (limit and current.rows >= limit):
            self._closed.appendleft(current)
            current = self._current = self._open(now, by_count=now < current.end)
            self.rotated = True
        current.count(reading, embedding)
        self.changed = True

    def snapshot(self, windows: int = 1) -> WindowSnapshot:
        """The open window, merged with the ``windows - 1`` most recent closed ones."""
        chosen = [self._current, *list(self._closed)[: max(0, windows - 1)]]
        snaps = [w.snapshot() for w in chosen]
        return merge(
            snaps,
            np.random.default_rng(len(snaps)),
            sample_size=self.settings.window_sample,
            embedding_sample_size=self.settings.embedding_sample,
        )

    def adopt(self, saved: list[WindowSnapshot]) -> None:
        """Take in windows another process saved (or this one before a restart), counted once.

        A saved window with the open window's end (the same aligned slot) is merged into it, and
        one with a closed window's span into that one; any other is kept as a closed window in
        time order. The ``max_windows`` newest closed windows stay.
        """
        windows = {(w.start, w.end): w for w in self._closed}
        for snap in saved:
            same = (snap.start, snap.end)
            if snap.end == self._current.end:
                self._current = self._merged(self._current, snap)
            elif same in windows:
                windows[same] = self._merged(windows[same], snap)
            else:
                windows[same] = self._restored(snap)
        newest = sorted(windows.values(), key=lambda w: (w.end, w.start), reverse=True)
        self._closed = deque(newest[: self.settings.max_windows], maxlen=self.settings.max_windows)
        self.changed = self.rotated = True

    def _merged(self, window: Window, saved: WindowSnapshot) -> Window:
        both = merge(
            [window.snapshot(), saved],
            np.random.default_rng(saved.rows),
            sample_size=self.settings.window_sample,
            embedding_sample_size=self.settings.embedding_sample,
        )
        return self._restored(both)

    def _restored(self, saved: WindowSnapshot) -> Window:
        return Window.restore(
            self.layout,
            saved,
            rng=self._rng,
            sample_size=self.settings.window_sample,
            embedding_sample_size=self.settings.embedding_sample,
        )

    def windows(self) -> list[Window]:
        """Open window first, then closed ones, newest first."""
        return [self._current, *self._closed]

    def nbytes(self) -> int:
        return sum(w.nbytes() for w in self.windows())

    def _open(self, now: float, *, by_count: bool) -> Window:
        span = self.settings.window_s
        aligned = math.floor(now / span) * span
        return Window(
            self.layout,
            start=now if by_count else aligned,
            end=aligned + span,
            rng=self._rng,
            sample_size=self.settings.window_sample,
            embedding_sample_size=self.settings.embedding_sample,
        )


class Baseline:
    """Collects a reference from live traffic: a bounded uniform sample of the first rows."""

    def __init__(self, target_rows: int, settings: DriftSettings, rng: random.Random) -> None:
        self.target_rows, self.settings, self._rng = target_rows, settings, rng
        self.seen = 0
        self._rows: list[tuple[Mapping[str, Any], Any, Any, Any]] = []

    def observe(
        self, row: Mapping[str, Any], prediction: Any, confidence: Any, embedding: Any
    ) -> bool:
        """Keep the row with algorithm R; True once ``target_rows`` rows have been seen."""
        self.seen += 1
        size = self.settings.reference_sample
        slot = self.seen - 1 if self.seen <= size else int(self._rng.random() * self.seen)
        if slot < size:
            item = (dict(row), prediction, confidence, embedding)
            if slot == len(self._rows):
                self._rows.append(item)
            else:
                self._rows[slot] = item
        return self.seen >= self.target_rows

    def profile(self) -> ReferenceProfile:
        rows = [r for r, _, _, _ in self._rows]
        preds = [p for _, p, _, _ in self._rows]
        confs = [c for _, _, c, _ in self._rows]
        embs = [e for _, _, _, e in self._rows if e is not None]
        return build_profile(
            rows,
            predictions=preds if any(p is not None for p in preds) else None,
            confidences=confs if any(c is not None for c in confs) else None,
            embeddings=embs if len(embs) >= 3 else None,
            settings=self.settings,
        )
