"""The n-gram model trained ahead of time and shipped in the package.

``bastion guards train-screen`` trains it on ``data/injection_train.jsonl`` and writes
``data/injection_ngram.npz`` with the key it was trained for (the training file's sha256,
scikit-learn's major.minor, the hash width). At start-up the server loads it when the key
matches and trains (≈20–60 s on 2 vCPU) when it does not, so a stale file is never used.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from bastion.guards.injection.classifier import training_path
from bastion.guards.injection.corpus.files import data_path
from bastion.guards.injection.ngram import BITS, NgramModel, load, save, sklearn_version
from bastion.guards.injection.training import read_records, training_views

NGRAM_FILE = "injection_ngram.npz"


def training_sha256(path: Path | None = None) -> str:
    return hashlib.sha256((path or training_path()).read_bytes()).hexdigest()


def ngram_key() -> dict[str, str]:
    """What the shipped weights were trained for; any change means retraining."""
    return {"training_sha256": training_sha256(), "sklearn": sklearn_version(), "bits": str(BITS)}


def ngram_path() -> Path:
    return data_path(NGRAM_FILE)


def train_ngram(path: Path | None = None) -> NgramModel:
    return NgramModel.fit(*training_views(read_records(path or training_path())))


def shipped_ngram() -> NgramModel | None:
    return load(ngram_path(), ngram_key())


def write_ngram(model: NgramModel, path: Path | None = None) -> Path:
    target = path or ngram_path()
    save(model, target, ngram_key())
    return target
