"""The trained screen model: the n-gram window model, the embedding classifier, and how
their evidence combines with the rules."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bastion.backends.base import TextEncoder
from bastion.guards.injection.classifier import EmbeddingClassifier, training_path
from bastion.guards.injection.ngram import NgramModel
from bastion.guards.injection.training import read_records, training_views

#: How much of the embedding classifier's probability counts as evidence.
CLASSIFIER_WEIGHT = 0.7
#: How much of the n-gram model's (most suspicious window's) probability counts.
NGRAM_WEIGHT = 0.8
#: The embedding classifier (opt-in) is fitted on every n-th training view, at most this many:
#: encoding all ~13,000 views takes minutes on 2 vCPU.
EMBEDDING_SAMPLE = 2000


@dataclass(frozen=True, slots=True)
class ScreenModel:
    """``score = 1 - (1 - rules)(1 - beta * p_ngram)(1 - alpha * p_embedding)``: a noisy-or.

    Either model may be absent (``None``): its factor is then 1. With the n-gram model the
    embedding classifier scores the window the n-gram model found most suspicious, not the
    start of the text.
    """

    classifier: EmbeddingClassifier | None
    alpha: float = CLASSIFIER_WEIGHT
    ngram: NgramModel | None = None
    beta: float = NGRAM_WEIGHT

    def combine(self, p_classifier: float, rule_score: float, p_ngram: float = 0.0) -> float:
        """One text's score (in float64, as numpy's element-wise arithmetic gave it)."""
        return 1.0 - (1.0 - rule_score) * (1.0 - self.beta * p_ngram) * (
            1.0 - self.alpha * p_classifier
        )

    @classmethod
    def train(
        cls,
        encoder: TextEncoder | None,
        path: str | Path | None = None,
        *,
        ngram: NgramModel | None = None,
    ) -> ScreenModel:
        """Train on the labelled JSONL at ``path`` (default: the bundled training set): the
        n-gram model unless one is given, and the embedding classifier if ``encoder``."""
        texts, labels = training_views(read_records(path or training_path()))
        ngram = ngram or NgramModel.fit(texts, labels)
        return cls(embedding_classifier(encoder, texts, labels), ngram=ngram)


def embedding_classifier(
    encoder: TextEncoder | None, texts: list[str], labels: list[int]
) -> EmbeddingClassifier | None:
    """The opt-in classifier over ``encoder``'s vectors, fitted on a sample of the views."""
    if encoder is None:
        return None
    step = max(1, len(texts) // EMBEDDING_SAMPLE)
    sample, sample_labels = texts[::step], labels[::step]
    return EmbeddingClassifier.fit(encoder.encode(sample), sample_labels)
