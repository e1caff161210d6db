"""Evaluate the guards on labelled JSONL: per-type PII P/R/F1, injection P/R/F1/FPR, latency."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bastion.guards.injection.evaluate import (
    KindScores,
    LengthLatency,
    by_length,
    format_kinds,
    format_lengths,
    per_kind,
)
from bastion.guards.pii import PiiDetector
from bastion.guards.pii_eval import add_language, format_extras, latency_by_length

if TYPE_CHECKING:
    from bastion.guards.injection import InjectionScreen


@dataclass(frozen=True, slots=True)
class Scores:
    """Counts and the derived precision / recall / F1 for one slice."""

    tp: int
    fp: int
    fn: int

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


@dataclass(frozen=True, slots=True)
class PiiReport:
    """Per-type scores under span-exact and overlap matching, plus detection latency (ms)."""

    examples: int
    exact: dict[str, Scores]
    overlap: dict[str, Scores]
    p50_ms: float
    p99_ms: float
    #: Overlap scores per ``lang`` of the records (per type, and "ALL").
    by_language: dict[str, dict[str, Scores]] = field(default_factory=dict)
    #: (p50, p99) ms of one ``detect`` call by text length in characters.
    latency_by_length: dict[int, tuple[float, float]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class InjectionReport:
    """Overall scores, per-kind scores (records' ``kind``), and latency by text length."""

    examples: int
    scores: Scores
    true_negatives: int
    threshold: float
    p50_ms: float
    p99_ms: float
    kinds: tuple[KindScores, ...] = ()
    lengths: tuple[LengthLatency, ...] = ()
    untrusted_threshold: float | None = None

    @property
    def false_positive_rate(self) -> float:
        negatives = self.scores.fp + self.true_negatives
        return self.scores.fp / negatives if negatives else 0.0


def read_jsonl(path: str | Path) -> Iterator[dict[str, Any]]:
    with Path(path).open(encoding="utf-8") as f:
        for number, line in enumerate(f, start=1):
            if line.strip():
                record = json.loads(line)
                if not isinstance(record, dict) or not isinstance(record.get("text"), str):
                    raise ValueError(f"{path}:{number}: expected an object with a 'text' string")
                yield record


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _match(
    gold: list[tuple[str, int, int]], found: list[tuple[str, int, int]], *, exact: bool
) -> dict[str, list[int]]:
    counts: dict[str, list[int]] = {}
    unmatched = list(found)
    for g in gold:
        hit = next(
            (
                f
                for f in unmatched
                if f[0] == g[0] and ((f[1:] == g[1:]) if exact else f[1] < g[2] and g[1] < f[2])
            ),
            None,
        )
        row = counts.setdefault(g[0], [0, 0, 0])
        if hit is None:
            row[2] += 1
        else:
            row[0] += 1
            unmatched.remove(hit)
    for f in unmatched:
        counts.setdefault(f[0], [0, 0, 0])[1] += 1
    return counts


def _totals(rows: dict[str, list[int]]) -> dict[str, Scores]:
    out = {t: Scores(*c) for t, c in sorted(rows.items())}
    out["ALL"] = Scores(*(sum(c[i] for c in rows.values()) for i in range(3)))
    return out


def evaluate_pii(
    path: str | Path, detector: PiiDetector | None = None, *, by_length: bool = True
) -> PiiReport:
    """Score ``detector`` on ``{"text", "entities": [{"type", "start", "end"}], "lang"?}``
    lines: per type, per language, and latency per text and by text length."""
    detector = (detector or PiiDetector()).without_memo()  # timings: detection, not the memo
    records = list(read_jsonl(path))
    for record in records:  # warm-up: phonenumbers loads region metadata on first use
        detector.detect(record["text"])
    exact: dict[str, list[int]] = {}
    overlap: dict[str, list[int]] = {}
    languages: dict[str, dict[str, list[int]]] = {}
    timings: list[float] = []
    for record in records:
        gold = [(e["type"], e["start"], e["end"]) for e in record.get("entities", [])]
        t0 = time.perf_counter()
        entities = detector.detect(record["text"])
        timings.append((time.perf_counter() - t0) * 1e3)
        found = [(e.type, e.start, e.end) for e in entities if e.type in detector.types]
        gold = [g for g in gold if g[0] in detector.types]
        for into, is_exact in ((exact, True), (overlap, False)):
            counts = _match(gold, found, exact=is_exact)
            for t, c in counts.items():
                row = into.setdefault(t, [0, 0, 0])
                for i in range(3):
                    row[i] += c[i]
            if not is_exact:
                add_language(languages, record, counts)
    return PiiReport(
        len(records),
        _totals(exact),
        _totals(overlap),
        percentile(timings, 0.5),
        percentile(timings, 0.99),
        {lang: _totals(rows) for lang, rows in languages.items()},
        latency_by_length(detector.detect, [r["text"] for r in records]) if by_length else {},
    )


def evaluate_injection(
    path: str | Path,
    screen: InjectionScreen | None = None,
    *,
    untrusted_threshold: float | None = None,
) -> InjectionReport:
    """Score ``screen`` on ``{"text", "label": 0|1, "kind"?, "source"?}`` lines; latency is
    per single check. With ``untrusted_threshold`` each line is judged as the guard stage
    does: a line whose ``source`` is ``"tool"`` by that (stricter) threshold, and the
    documents quoted inside any other line screened again under it."""
    if screen is None:
        from bastion.guards.injection import default_screen

        screen = default_screen()
    records = list(read_jsonl(path))
    screen.screen("warm-up")  # trains the model on first use
    tp = fp = fn = tn = 0
    timings: list[float] = []
    flagged: list[bool] = []
    for record in records:
        t0 = time.perf_counter()
        hit = _judge(screen, record, untrusted_threshold)
        timings.append((time.perf_counter() - t0) * 1e3)
        label = int(record["label"])
        flagged.append(hit)
        if hit:
            tp, fp = tp + label, fp + (1 - label)
        else:
            fn, tn = fn + label, tn + (1 - label)
    kinds = [str(r.get("kind", "all")) for r in records]
    labels = [int(r["label"]) for r in records]
    return InjectionReport(
        len(records),
        Scores(tp, fp, fn),
        tn,
        screen.threshold,
        percentile(timings, 0.5),
        percentile(timings, 0.99),
        tuple(per_kind(kinds, labels, flagged)),
        tuple(by_length([len(r["text"]) for r in records], timings, percentile)),
        untrusted_threshold,
    )


def _judge(screen: InjectionScreen, record: dict[str, Any], untrusted: float | None) -> bool:
    text = record["text"]
    if untrusted is None:
        return screen.screen(text).flagged
    strict = min(screen.threshold, untrusted)
    if record.get("source") == "tool":
        return screen.screen(text).score >= strict
    from bastion.guards.injection.quoted import quoted_documents

    documents = quoted_documents(text)
    verdicts = screen.screen_many([text, *documents])
    return verdicts[0].flagged or any(v.score >= strict for v in verdicts[1:])


def format_report(report: PiiReport | InjectionReport) -> str:
    """A plain-text table of ``report``, for the CLI and docs."""
    if isinstance(report, InjectionReport):
        s = report.scores
        untrusted = (
            f"   tool results {report.untrusted_threshold:.2f}"
            if report.untrusted_threshold is not None
            else ""
        )
        return "\n".join(
            (
                f"examples   {report.examples}   threshold {report.threshold:.2f}{untrusted}",
                "precision  recall  f1      fpr     tp   fp   fn   tn",
                f"{s.precision:<10.3f} {s.recall:<7.3f} {s.f1:<7.3f} "
                f"{report.false_positive_rate:<7.3f} {s.tp:<4} {s.fp:<4} {s.fn:<4} "
                f"{report.true_negatives}",
                f"latency    p50 {report.p50_ms:.2f} ms   p99 {report.p99_ms:.2f} ms",
                "",
                *format_kinds(report.kinds),
                "",
                "latency by text length",
                *format_lengths(report.lengths),
            )
        )
    lines = [
        f"examples {report.examples}   latency p50 {report.p50_ms:.3f} ms  "
        f"p99 {report.p99_ms:.3f} ms",
        f"{'type':<9} {'exact P':>8} {'R':>6} {'F1':>6}   {'overlap P':>9} {'R':>6} {'F1':>6}"
        f" {'gold':>5}",
    ]
    for t, e in report.exact.items():
        o = report.overlap[t]
        lines.append(
            f"{t:<9} {e.precision:>8.3f} {e.recall:>6.3f} {e.f1:>6.3f}   "
            f"{o.precision:>9.3f} {o.recall:>6.3f} {o.f1:>6.3f} {o.tp + o.fn:>5}"
        )
    lines.extend(format_extras(report.by_language, report.latency_by_length))
    return "\n".join(lines)
