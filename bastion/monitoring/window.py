"""Live windows: fixed-size histograms and reservoirs over a reference's bins, whatever the load."""

from __future__ import annotations

import math
import random
from bisect import bisect_right
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from bastion.monitoring.embedding import EmbeddingProfile
from bastion.monitoring.profile import FeatureProfile, ReferenceProfile
from bastion.monitoring.values import as_float, category_key, is_missing

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class Layout:
    """A reference compiled for observation: which value goes to which histogram."""

    numeric: tuple[FeatureProfile, ...]  # features, then a numeric prediction, then confidence
    categorical: tuple[FeatureProfile, ...]  # features, then a categorical prediction
    numeric_prediction: bool
    categorical_prediction: bool
    confidence: bool
    embedding: EmbeddingProfile | None
    directions: FloatArray | None

    @classmethod
    def of(cls, profile: ReferenceProfile) -> Layout:
        pred = profile.prediction
        num_pred = pred is not None and pred.kind == "numeric"
        cat_pred = pred is not None and pred.kind == "categorical"
        numeric = [f for f in profile.features if f.kind == "numeric"]
        categorical = [f for f in profile.features if f.kind == "categorical"]
        numeric += [p for p in (pred if num_pred else None, profile.confidence) if p is not None]
        categorical += [pred] if pred is not None and cat_pred else []
        emb = profile.embedding
        return cls(
            numeric=tuple(numeric),
            categorical=tuple(categorical),
            numeric_prediction=num_pred,
            categorical_prediction=cat_pred,
            confidence=profile.confidence is not None,
            embedding=emb,
            directions=emb.directions() if emb and emb.sample else None,
        )


@dataclass(frozen=True, slots=True)
class WindowSnapshot:
    """A copy of one window (or several merged), safe to analyse off the hot path.

    ``numeric_counts[i]`` and ``categorical_counts[j]`` follow the reference's bins (missing
    last); ``sample`` is a uniform sample of rows (one column per numeric signal, NaN where the
    row had no valid value); ``embedding_sample`` holds projections on the fixed directions.
    """

    layout: Layout
    start: float
    end: float
    rows: int
    numeric_counts: tuple[IntArray, ...]
    numeric_invalid: tuple[int, ...]
    sample: FloatArray
    categorical_counts: tuple[IntArray, ...]
    embedding_rows: int
    embedding_sum: FloatArray | None
    embedding_invalid: int
    embedding_sample: FloatArray


@dataclass(frozen=True, slots=True)
class Reading:
    """One row as a window counts it: its numeric values (for the reservoir) and the count
    each histogram adds one to (``-1``: the missing bin and the invalid tally). Read once, a
    row can be counted into every window of an equal layout: a deployment's and its
    tenant's windows of one reference."""

    values: list[Any]
    numeric: list[int]
    categorical: list[int]


class Window:
    """One live window. ``observe`` costs a few µs and never allocates per feature.

    Memory is fixed by the reference and the settings, not by traffic: one count per reference
    bin, one row reservoir of ``sample_size`` x numeric signals (float32, Vitter's algorithm R
    with the injected RNG), an embedding running sum and a reservoir of its projections.
    """

    __slots__ = (
        "_cat_counts",
        "_cat_slots",
        "_emb_invalid",
        "_emb_rows",
        "_emb_sample",
        "_emb_sum",
        "_num_counts",
        "_num_edges",
        "_num_names",
        "_rng",
        "_sample",
        "end",
        "layout",
        "rows",
        "start",
    )

    def __init__(
        self,
        layout: Layout,
        *,
        start: float,
        end: float,
        rng: random.Random,
        sample_size: int,
        embedding_sample_size: int,
    ) -> None:
        self.layout, self.start, self.end, self.rows, self._rng = layout, start, end, 0, rng
        n_feat = len(layout.numeric) - layout.numeric_prediction - layout.confidence
        self._num_names = [f.name for f in layout.numeric[:n_feat]]
        self._num_edges = [list(f.edges) for f in layout.numeric]
        self._num_counts = [[0] * (len(f.counts) + 1) for f in layout.numeric]  # + invalid
        self._sample = np.full((sample_size, len(layout.numeric)), np.nan, dtype=np.float32)
        self._cat_counts = [[0] * len(f.counts) for f in layout.categorical]
        self._cat_slots = [
            (f.name, {c: i for i, c in enumerate(f.categories)}, len(f.categories), counts)
            for f, counts in zip(layout.categorical, self._cat_counts, strict=True)
        ]
        dim = layout.embedding.dim if layout.embedding else 0
        k = layout.directions.shape[1] if layout.directions is not None else 0
        self._emb_rows = self._emb_invalid = 0
        self._emb_sum = np.zeros(dim)
        self._emb_sample = np.full((embedding_sample_size if k else 0, k), np.nan, np.float32)

    @classmethod
    def restore(
        cls,
        layout: Layout,
        saved: WindowSnapshot,
        *,
        rng: random.Random,
        sample_size: int,
        embedding_sample_size: int,
    ) -> Window:
        """The window ``saved`` was taken of (counts, reservoirs and sums), to go on counting."""
        w = cls(
            layout,
            start=saved.start,
            end=saved.end,
            rng=rng,
            sample_size=sample_size,
            embedding_sample_size=embedding_sample_size,
        )
        w.rows, w._emb_rows = saved.rows, saved.embedding_rows
        w._emb_invalid = saved.embedding_invalid
        parts = zip(w._num_counts, saved.numeric_counts, saved.numeric_invalid, strict=True)
        for counts, live, invalid in parts:
            counts[:] = [*(int(c) for c in live), int(invalid)]
        for mine, theirs in zip(w._cat_counts, saved.categorical_counts, strict=True):
            mine[:] = [int(c) for c in theirs]  # in place: the slots hold these lists
        _fill(w._sample, saved.sample)
        _fill(w._emb_sample, saved.embedding_sample)
        if saved.embedding_sum is not None and saved.embedding_sum.shape == w._emb_sum.shape:
            w._emb_sum[:] = saved.embedding_sum
        return w

    def observe(
        self,
        row: Mapping[str, Any],
        prediction: Any = None,
        confidence: Any = None,
        embedding: Any = None,
    ) -> None:
        """Count one row (and its prediction, confidence and embedding) into this window."""
        self.count(self.read(row, prediction, confidence), embedding)

    def read(
        self, row: Mapping[str, Any], prediction: Any = None, confidence: Any = None
    ) -> Reading:
        """Where one row falls in this window's histograms (see ``Reading``)."""
        layout = self.layout
        values: list[Any] = []
        numeric: list[int] = []
        if layout.numeric:
            values = [row.get(name) for name in self._num_names]
            if layout.numeric_prediction:
                values.append(prediction)
            if layout.confidence:
                values.append(confidence)
            for v, edges, counts in zip(values, self._num_edges, self._num_counts, strict=True):
                cls = v.__class__
                if (cls is float or cls is int) and v - v == 0:  # a finite plain number
                    numeric.append(bisect_right(edges, v))
                else:
                    numeric.append(_other_at(v, edges, counts))
        categorical: list[int] = []
        last = len(self._cat_slots) - 1
        for i, (name, index, other, counts) in enumerate(self._cat_slots):
            v = prediction if i == last and layout.categorical_prediction else row.get(name)
            if v is None or (isinstance(v, float | np.floating) and math.isnan(v)):
                categorical.append(len(counts) - 1)
            else:
                categorical.append(index.get(v if v.__class__ is str else category_key(v), other))
        return Reading(values, numeric, categorical)

    def count(self, reading: Reading, embedding: Any = None) -> None:
        """Count a row ``read`` by this window or by any window of an equal layout."""
        self.rows += 1
        if self.layout.numeric:
            for counts, at in zip(self._num_counts, reading.numeric, strict=True):
                if at >= 0:
                    counts[at] += 1
                else:  # the missing bin (missing or invalid) and, past it, the invalid tally
                    counts[-2] += 1
                    counts[-1] += 1
            self._sample_values(reading.values)
        for counts, at in zip(self._cat_counts, reading.categorical, strict=True):
            counts[at] += 1
        if embedding is not None and self.layout.embedding is not None:
            self._observe_embedding(embedding)

    def _sample_values(self, values: list[Any]) -> None:
        slot = self._reservoir_slot(self.rows, self._sample.shape[0])
        if slot >= 0:
            try:
                self._sample[slot] = np.array(values, dtype=np.float64)
            except (TypeError, ValueError, OverflowError):
                self._sample[slot] = [as_float(v) for v in values]

    def _observe_embedding(self, embedding: Any) -> None:
        try:
            vec = np.asarray(embedding, dtype=np.float64)
        except (TypeError, ValueError):
            vec = np.zeros(0)
        if vec.shape != self._emb_sum.shape or not np.isfinite(vec).all():
            self._emb_invalid += 1
            return
        self._emb_rows += 1
        self._emb_sum += vec
        slot = self._reservoir_slot(self._emb_rows, self._emb_sample.shape[0])
        if slot >= 0 and self.layout.directions is not None:
            self._emb_sample[slot] = vec @ self.layout.directions

    def _reservoir_slot(self, seen: int, size: int) -> int:
        """Algorithm R: the slot the ``seen``-th item replaces, or -1 to drop it."""
        if seen <= size:
            return seen - 1
        j = int(self._rng.random() * seen)
        return j if j < size else -1

    def snapshot(self) -> WindowSnapshot:
        filled = min(self.rows, self._sample.shape[0])
        emb_filled = min(self._emb_rows, self._emb_sample.shape[0])
        return WindowSnapshot(
            layout=self.layout,
            start=self.start,
            end=self.end,
            rows=self.rows,
            numeric_counts=tuple(np.array(c[:-1], dtype=np.int64) for c in self._num_counts),
            numeric_invalid=tuple(c[-1] for c in self._num_counts),
            sample=self._sample[:filled].astype(np.float64),
            categorical_counts=tuple(np.array(c, dtype=np.int64) for c in self._cat_counts),
            embedding_rows=self._emb_rows,
            embedding_sum=self._emb_sum.copy() if self.layout.embedding else None,
            embedding_invalid=self._emb_invalid,
            embedding_sample=self._emb_sample[:emb_filled].astype(np.float64),
        )

    def stored_sizes(self) -> dict[str, int]:
        """How many values this window holds, by kind: constant whatever the traffic."""
        return {
            "bins": sum(map(len, self._num_counts)) + sum(map(len, self._cat_counts)),
            "sample": int(self._sample.size),
            "embedding": int(self._emb_sum.size + self._emb_sample.size),
        }

    def nbytes(self) -> int:
        """Approximate bytes held: counts (8 each) plus the numpy buffers."""
        sizes = self.stored_sizes()
        return (
            8 * sizes["bins"] + self._sample.nbytes + self._emb_sum.nbytes + self._emb_sample.nbytes
        )


def _other_at(value: Any, edges: list[float], counts: list[int]) -> int:
    """Where anything but a finite int or float counts (numpy numbers, numeric strings,
    missing, invalid): its bin, the missing bin, or -1 (the missing bin and the invalid tally)."""
    x = as_float(value)
    if x - x == 0:
        return bisect_right(edges, x)
    return len(counts) - 2 if is_missing(value) else -1


def _fill(reservoir: npt.NDArray[np.float32], saved: FloatArray) -> None:
    """Copy a saved reservoir in (a uniform subset when the reservoir has shrunk since)."""
    size = reservoir.shape[0]
    if saved.shape[0] > size:
        saved = saved[np.sort(np.random.default_rng(size).choice(saved.shape[0], size, False))]
    reservoir[: saved.shape[0]] = saved
