"""Classification scorers: accuracy, and precision / recall / F1 per class and macro."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from bastion.evaluation.base import Observations
from bastion.evaluation.outputs import label


@dataclass(frozen=True, slots=True)
class Accuracy:
    """Share of rows whose scored value equals the expected label (``1`` == ``"1"``)."""

    name: str = "accuracy"

    def score(self, obs: Observations) -> dict[str, float]:
        if not len(obs):
            return {}
        hits = sum(label(v) == label(e) for v, e in zip(obs.values, obs.expected, strict=True))
        return {"accuracy": hits / len(obs)}


def _ratio(num: int, den: int) -> float:
    return num / den if den else 0.0  # scikit-learn's zero_division=0


@dataclass(frozen=True, slots=True)
class PrecisionRecallF1:
    """Per class (every label expected or predicted) and their unweighted (macro) mean.

    A class never predicted has precision 0; a class never expected has recall 0 — as
    scikit-learn reports with ``zero_division=0``. One class, all right: every figure is 1.
    """

    name: str = "f1"

    def score(self, obs: Observations) -> dict[str, float]:
        if not len(obs):
            return {}
        predicted = [label(v) for v in obs.values]
        expected = [label(e) for e in obs.expected]
        tp: Counter[str] = Counter(p for p, e in zip(predicted, expected, strict=True) if p == e)
        said, truth = Counter(predicted), Counter(expected)
        out: dict[str, float] = {}
        sums = {"precision": 0.0, "recall": 0.0, "f1": 0.0}
        classes = sorted(set(said) | set(truth))
        for cls in classes:
            precision = _ratio(tp[cls], said[cls])
            recall = _ratio(tp[cls], truth[cls])
            f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
            for metric, value in (("precision", precision), ("recall", recall), ("f1", f1)):
                out[f"{metric}[{cls}]"] = value
                sums[metric] += value
        for metric, total in sums.items():
            out[f"{metric}_macro"] = total / len(classes)
        return out
