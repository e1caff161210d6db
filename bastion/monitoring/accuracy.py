"""Accuracy from late labels: accuracy and macro-F1, MAE, mean score, per version and segment."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from bastion.errors import InvalidRequest
from bastion.settings.monitoring import AccuracyWindow, MonitoringSettings

if TYPE_CHECKING:
    from bastion.monitoring.feedback import FeedbackStore

ALL = "_all"


@dataclass(frozen=True, slots=True)
class Labelled:
    """One logged prediction with its newest label or score."""

    prediction_id: int
    version: int
    tenant: str
    segments: Mapping[str, str]
    task: str
    predicted_label: str | None
    label_key: str | None
    predicted_value: float | None
    label_value: float | None
    score: float | None
    predicted_at: datetime


@dataclass(frozen=True, slots=True)
class Quality:
    """The figures of one group (window × version × segment value) of ``labelled`` predictions.

    ``accuracy`` and ``macro_f1`` (the unweighted mean of per-class F1 over every class seen
    as a label or a prediction, as scikit-learn computes it) cover the classification labels;
    ``mae`` and ``rmse`` the regression labels; ``mean_score`` the scores. None: no such data.
    """

    window: str
    version: int
    segment: str
    value: str
    task: str
    labelled: int
    classified: int
    correct: int
    accuracy: float | None
    macro_f1: float | None
    regressed: int
    mae: float | None
    rmse: float | None
    scored: int
    mean_score: float | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def quality(
    rows: Sequence[Labelled], *, window: str, version: int, segment: str = ALL, value: str = ALL
) -> Quality:
    pairs = [
        (r.label_key, r.predicted_label)
        for r in rows
        if r.task == "classification" and r.label_key is not None and r.predicted_label is not None
    ]
    errors = [
        r.label_value - r.predicted_value
        for r in rows
        if r.task == "regression" and r.label_value is not None and r.predicted_value is not None
    ]
    scores = [r.score for r in rows if r.score is not None]
    correct = sum(1 for truth, guess in pairs if truth == guess)
    task = "classification" if pairs else "regression" if errors else "other"
    return Quality(
        window=window,
        version=version,
        segment=segment,
        value=value,
        task=task,
        labelled=len(rows),
        classified=len(pairs),
        correct=correct,
        accuracy=correct / len(pairs) if pairs else None,
        macro_f1=macro_f1(pairs) if pairs else None,
        regressed=len(errors),
        mae=sum(abs(e) for e in errors) / len(errors) if errors else None,
        rmse=math.sqrt(sum(e * e for e in errors) / len(errors)) if errors else None,
        scored=len(scores),
        mean_score=sum(scores) / len(scores) if scores else None,
    )


def macro_f1(pairs: Sequence[tuple[str, str]]) -> float:
    """Mean F1 over the classes present as a true label or a prediction."""
    tp: Counter[str] = Counter()
    fp: Counter[str] = Counter()
    fn: Counter[str] = Counter()
    for truth, guess in pairs:
        if truth == guess:
            tp[truth] += 1
        else:
            fp[guess] += 1
            fn[truth] += 1
    classes = set(tp) | set(fp) | set(fn)
    if not classes:
        return 0.0
    f1 = [2 * tp[c] / (2 * tp[c] + fp[c] + fn[c]) for c in classes]
    return sum(f1) / len(f1)


def by_segment(
    rows: Sequence[Labelled], *, window: str, version: int, segments: Iterable[str] = ()
) -> list[Quality]:
    """The whole group first, then each value of each segment (most labelled first)."""
    out = [quality(rows, window=window, version=version)]
    names = sorted({*segments, *(k for r in rows for k in r.segments)})
    for name in names:
        groups: dict[str, list[Labelled]] = {}
        for r in rows:
            groups.setdefault(r.segments.get(name, "unknown"), []).append(r)
        for value, members in sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0])):
            out.append(quality(members, window=window, version=version, segment=name, value=value))
    return out


def newest_per_prediction(rows: Iterable[Labelled]) -> list[Labelled]:
    """Rows newest first with one per prediction (the first seen); keeps the given order."""
    seen: set[int] = set()
    out = []
    for r in rows:
        if r.prediction_id not in seen:
            seen.add(r.prediction_id)
            out.append(r)
    return out


class AccuracyReader:
    """Rolling figures per window (``monitoring.accuracy_windows``), version and segment.

    ``last: N`` windows take each version's N newest labelled predictions (by prediction
    time), then split them by segment; ``hours: H`` windows take every labelled prediction
    made in the last H hours (at most ``max_rows``).
    """

    def __init__(
        self,
        settings: MonitoringSettings,
        feedback: FeedbackStore,
        *,
        max_rows: int = 100_000,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.settings = settings
        self._feedback = feedback
        self._max_rows = max_rows
        self._now = now

    def windows(self, name: str | None = None) -> list[AccuracyWindow]:
        every = list(self.settings.accuracy_windows)
        if name is None:
            return every
        chosen = [w for w in every if w.name == name]
        if not chosen:
            raise InvalidRequest(
                f"window: unknown accuracy window {name!r}; configured: "
                + ", ".join(w.name for w in every),
                details={"field": "window"},
            )
        return chosen

    async def figures(
        self,
        deployment: str,
        *,
        window: str | None = None,
        version: int | None = None,
        tenant: str | None = None,
    ) -> list[Quality]:
        entry = self.settings.for_deployment(deployment)
        segments = [s.name for s in entry.segments] if entry else []
        out: list[Quality] = []
        for w in self.windows(window):
            if w.last is not None:
                versions = (
                    [version]
                    if version is not None
                    else await self._feedback.versions(deployment, tenant)
                )
                for v in versions:
                    rows = await self._feedback.labelled(
                        deployment, version=v, limit=w.last, tenant=tenant
                    )
                    out += by_segment(
                        newest_per_prediction(rows), window=w.name, version=v, segments=segments
                    )
                continue
            since = self._now() - timedelta(hours=w.hours or 0.0)
            rows = await self._feedback.labelled(
                deployment, version=version, since=since, limit=self._max_rows, tenant=tenant
            )
            per_version: dict[int, list[Labelled]] = {}
            for r in newest_per_prediction(rows):
                per_version.setdefault(r.version, []).append(r)
            for v in sorted(per_version, reverse=True):
                out += by_segment(per_version[v], window=w.name, version=v, segments=segments)
        return out
