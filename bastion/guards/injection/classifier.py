"""A logistic regression over sentence embeddings, trained from the bundled labelled set."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import Any

import numpy as np

from bastion.backends.base import TextEncoder

SEED = 20240611
Vector = np.ndarray[Any, np.dtype[np.float64]]


def training_path() -> Path:
    """The labelled training set shipped in ``bastion/guards/data``."""
    return Path(str(files("bastion.guards") / "data" / "injection_train.jsonl"))


def load_labelled(path: str | Path) -> tuple[list[str], list[int]]:
    texts: list[str] = []
    labels: list[int] = []
    with Path(path).open(encoding="utf-8") as f:
        for line in f:
            if line.strip():
                record = json.loads(line)
                texts.append(str(record["text"]))
                labels.append(int(record["label"]))
    return texts, labels


@dataclass(frozen=True, slots=True)
class EmbeddingClassifier:
    """``sigmoid(x · weights + bias)`` over L2-normalised embeddings ``x``."""

    weights: Vector
    bias: float

    @classmethod
    def fit(
        cls, vectors: Any, labels: Sequence[int], *, c: float = 4.0, seed: int = SEED
    ) -> EmbeddingClassifier:
        """Fit on ``vectors`` (n, d): deterministic (lbfgs, fixed seed), about 0.1 s for 400."""
        from sklearn.linear_model import LogisticRegression

        model = LogisticRegression(C=c, max_iter=2000, random_state=seed, class_weight="balanced")
        model.fit(np.asarray(vectors, dtype=np.float64), np.asarray(labels))
        return cls(np.asarray(model.coef_[0], dtype=np.float64), float(model.intercept_[0]))

    @classmethod
    def train(
        cls, encoder: TextEncoder, path: str | Path | None = None, *, c: float = 4.0
    ) -> EmbeddingClassifier:
        """Encode the labelled set at ``path`` (default: the bundled one) and fit on it."""
        from bastion.guards.injection.normalize import normalize

        texts, labels = load_labelled(path or training_path())
        vectors = encoder.encode([normalize(t).combined for t in texts])
        return cls.fit(vectors, labels, c=c)

    def predict(self, vectors: Any) -> Vector:
        """The probability of "injection" for each row of ``vectors``."""
        logits = np.asarray(vectors, dtype=np.float64) @ self.weights + self.bias
        return np.asarray(1.0 / (1.0 + np.exp(-logits)), dtype=np.float64)
