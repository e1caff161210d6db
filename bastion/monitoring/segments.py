"""Segments: each prediction's slice labels, from input fields or ``x-bastion-segment-*``."""

from __future__ import annotations

import bisect
import math
from collections.abc import Mapping, Sequence
from typing import Any

from bastion.settings.monitoring import SegmentSettings

HEADER_PREFIX = "x-bastion-segment-"
UNKNOWN = "unknown"
OTHER = "other"
MAX_VALUE_CHARS = 64


class Segment:
    """One segment dimension: reads its raw value and bounds the values it reports.

    Values are strings: numbers are bucketed when ``bins`` are set (``<10``, ``10..20``,
    ``>=20``); only the allowed ``values`` (or the first ``max_values`` distinct ones seen)
    are kept, every other value is ``other``. Not thread-safe: one writer uses it.
    """

    def __init__(self, settings: SegmentSettings) -> None:
        self.settings = settings
        self.name = settings.name
        self._path = tuple(settings.field.split(".")) if settings.field else ()
        self._header = HEADER_PREFIX + settings.header if settings.header else None
        self._allowed = frozenset(settings.values) if settings.values else None
        self._seen: set[str] = set()

    @property
    def from_header(self) -> bool:
        return self._header is not None

    def header_value(self, headers: Mapping[str, str]) -> str | None:
        if self._header is None:
            return None
        return headers.get(self._header)

    def value(self, item: Any, header: str | None = None) -> str:
        """This segment's value for one input item (or the request's header value)."""
        raw = header if self._header is not None else _lookup(item, self._path)
        return self._bound(self._label(raw))

    def _label(self, raw: Any) -> str:
        if raw is None or raw == "":
            return UNKNOWN
        if isinstance(raw, bool):
            return "true" if raw else "false"
        if isinstance(raw, int | float):
            number = float(raw)
            if not math.isfinite(number):
                return UNKNOWN
            if self.settings.bins:
                return bucket(number, self.settings.bins)
            return f"{raw:g}" if isinstance(raw, float) else str(raw)
        if isinstance(raw, str):
            if self.settings.bins:
                try:
                    return bucket(float(raw), self.settings.bins)
                except ValueError:
                    return UNKNOWN
            return raw.strip()[:MAX_VALUE_CHARS] or UNKNOWN
        return OTHER

    def _bound(self, label: str) -> str:
        if label in (UNKNOWN, OTHER) or self.settings.bins:
            return label
        if self._allowed is not None:
            return label if label in self._allowed else OTHER
        if label in self._seen:
            return label
        if len(self._seen) < self.settings.max_values:
            self._seen.add(label)
            return label
        return OTHER


class Segmenter:
    """Every segment dimension of one deployment."""

    def __init__(self, segments: Sequence[SegmentSettings]) -> None:
        self.segments = tuple(Segment(s) for s in segments)

    def __bool__(self) -> bool:
        return bool(self.segments)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.segments)

    def headers_of(self, headers: Mapping[str, str]) -> dict[str, str]:
        """The raw header values the request carried (taken on the hot path: a few lookups)."""
        out = {}
        for s in self.segments:
            found = s.header_value(headers)
            if found is not None:
                out[s.name] = found
        return out

    def values(self, item: Any, headers: Mapping[str, str]) -> dict[str, str]:
        """Segment values of one input item; ``headers`` as ``headers_of`` returned them."""
        return {s.name: s.value(item, headers.get(s.name)) for s in self.segments}


def bucket(value: float, edges: Sequence[float]) -> str:
    """The bin label of ``value`` for ascending ``edges``: ``<a``, ``a..b``, ``>=z``."""
    at = bisect.bisect_right(edges, value)
    if at == 0:
        return f"<{edges[0]:g}"
    if at == len(edges):
        return f">={edges[-1]:g}"
    return f"{edges[at - 1]:g}..{edges[at]:g}"


def _lookup(item: Any, path: Sequence[str]) -> Any:
    current = item
    for key in path:
        if not isinstance(current, Mapping):
            return None
        current = current.get(key)
    return current
