"""The PII report's extra views: scores per language, and detection latency by text length."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

#: Text lengths (characters) the latency table is measured at.
LENGTHS: tuple[int, ...] = (100, 500, 2000, 8000)


def latency_by_length(
    detect: Callable[[str], object],
    texts: Sequence[str],
    lengths: Sequence[int] = LENGTHS,
    runs: int = 30,
) -> dict[int, tuple[float, float]]:
    """(p50, p99) milliseconds of ``detect`` on texts of each length, cut from the labelled
    texts joined (so they hold the same mix of PII and prose as the set)."""
    from bastion.guards.eval import percentile

    corpus = " ".join(texts) or "x"
    while len(corpus) < max(lengths, default=0):
        corpus = f"{corpus} {corpus}"
    out: dict[int, tuple[float, float]] = {}
    for n in lengths:
        sample = corpus[:n]
        detect(sample)
        timings = []
        for _ in range(runs):
            t0 = time.perf_counter()
            detect(sample)
            timings.append((time.perf_counter() - t0) * 1e3)
        out[n] = (percentile(timings, 0.5), percentile(timings, 0.99))
    return out


def add_language(
    into: dict[str, dict[str, list[int]]], record: dict[str, Any], counts: dict[str, list[int]]
) -> None:
    """Adds one record's per-type [tp, fp, fn] (overlap matching) under its ``lang``."""
    lang = str(record.get("lang") or "-")
    rows = into.setdefault(lang, {})
    for kind, c in counts.items():
        row = rows.setdefault(kind, [0, 0, 0])
        for i in range(3):
            row[i] += c[i]


def format_extras(
    by_language: dict[str, dict[str, Any]], latency: dict[int, tuple[float, float]]
) -> list[str]:
    """The per-language table (every type together, then the weakest type) and the latency
    table, as lines."""
    lines: list[str] = []
    if len(by_language) > 1 or "-" not in by_language:
        lines.append("")
        lines.append(f"{'language':<9} {'P':>6} {'R':>6} {'F1':>6} {'gold':>5}   weakest type (R)")
        for lang, scores in sorted(by_language.items()):
            total = scores["ALL"]
            typed = [(t, s) for t, s in scores.items() if t != "ALL" and s.tp + s.fn]
            weakest = min(typed, key=lambda ts: ts[1].recall, default=None)
            worst = f"{weakest[0]} {weakest[1].recall:.2f}" if weakest else ""
            lines.append(
                f"{lang:<9} {total.precision:>6.3f} {total.recall:>6.3f} {total.f1:>6.3f} "
                f"{total.tp + total.fn:>5}   {worst}"
            )
    if latency:
        lines.append("")
        lines.append(f"{'chars':>6} {'p50 ms':>8} {'p99 ms':>8}")
        for n, (p50, p99) in sorted(latency.items()):
            lines.append(f"{n:>6} {p50:>8.3f} {p99:>8.3f}")
    return lines
