"""The trained screen model: the embedding classifier and how it combines with the rules."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bastion.backends.base import TextEncoder
from bastion.guards.injection.classifier import EmbeddingClassifier, load_labelled, training_path
from bastion.guards.injection.normalize import normalize

#: How much of the classifier's probability counts as evidence. Chosen by 5-fold
#: cross-validation on the training set (F1 over alpha in 0.5..0.8): with 0.7 the classifier
#: alone flags a text only above p = 0.71, and tips a weak rule match over the threshold.
CLASSIFIER_WEIGHT = 0.7


@dataclass(frozen=True, slots=True)
class ScreenModel:
    """``score = 1 - (1 - rule_score) * (1 - alpha * p_classifier)``: a noisy-or of both."""

    classifier: EmbeddingClassifier
    alpha: float = CLASSIFIER_WEIGHT

    def combine(self, p_classifier: Any, rule_scores: Any) -> Any:
        p = np.asarray(p_classifier, dtype=np.float64)
        r = np.asarray(rule_scores, dtype=np.float64)
        return 1.0 - (1.0 - r) * (1.0 - self.alpha * p)

    @classmethod
    def train(cls, encoder: TextEncoder, path: str | Path | None = None) -> ScreenModel:
        """Train on the labelled JSONL at ``path`` (default: the bundled training set)."""
        texts, labels = load_labelled(path or training_path())
        vectors = encoder.encode([normalize(t).combined for t in texts])
        return cls(EmbeddingClassifier.fit(vectors, labels))
