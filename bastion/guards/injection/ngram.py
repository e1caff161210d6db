"""A linear model over hashed character and word n-grams, applied to a text's windows.

Character 3–5-grams (inside word boundaries) carry spelling-level cues in any script, word
1–2-grams carry phrasing; both are hashed (MurmurHash3, as scikit-learn's
``HashingVectorizer`` does, in ``hashing.py``) into ``2**17`` slots each, so the model is
one weight vector of ``2**18`` float32s. It scores a text as the highest probability over
the whole text and its windows (``segments.py``). A text's pieces are hashed once; a
window's (or the whole text's) features are the sum of its pieces' counts, so scanning
every window costs about as much as reading the text once. The sums are numpy's
(``rows.py``, bit-identical to SciPy's sparse products): SciPy is loaded only to train.
Where the C extension ``_window_logits.c`` was built (``native.py``), it computes the same
window logits, bit for bit, at a tenth of the cost.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from bastion.guards.injection.hashing import NgramHasher
from bastion.guards.injection.native import WindowLogits
from bastion.guards.injection.native import window_logits as native_window_logits
from bastion.guards.injection.rows import Rows, dot, group_sums
from bastion.guards.injection.segments import pieces, window_groups
from bastion.guards.injection.window_scores import window_logits

BITS = 17
SEED = 20261207
#: Texts (a batch's parts in all) longer than this are scored through CSR ``Rows`` (rows.py).
ROWS_FROM = 1200


def _vectorizers() -> tuple[Any, Any]:
    # scikit-learn's HashingVectorizer(alternate_sign=False, norm=None), without importing
    # scikit-learn at serving time (hashing.py; the matrices are identical)
    chars = NgramHasher("char_wb", (3, 5), 2**BITS)
    words = NgramHasher("word", (1, 2), 2**BITS, token_pattern=r"(?u)\b\w+\b")
    return chars, words


def _normalized(matrix: Rows) -> Rows:
    """``matrix`` with each row scaled to unit l2 norm (empty rows stay empty)."""
    counts = np.diff(matrix.indptr)
    rows = np.repeat(np.arange(matrix.shape[0]), counts)
    squares = np.bincount(rows, weights=matrix.data**2, minlength=matrix.shape[0])
    with np.errstate(divide="ignore"):
        scale = np.where(squares > 0, 1.0 / np.sqrt(squares), 0.0)
    return replace(matrix, data=matrix.data * np.repeat(scale, counts))


@dataclass(frozen=True)
class Featurizer:
    """Text → character and word n-gram counts per piece (``segments.pieces``), summed per
    text or per window, each half l2-normalised. Every piece is hashed once, however many
    windows hold it: a text's cost is linear in its length."""

    chars: Any
    words: Any

    @classmethod
    def make(cls) -> Featurizer:
        return cls(*_vectorizers())

    def counts(self, parts: Sequence[str]) -> tuple[Rows, Rows]:
        return self.chars.transform(parts), self.words.transform(parts)

    def grouped(self, parts: Sequence[str], groups: Sequence[Sequence[int]]) -> tuple[Rows, Rows]:
        """Normalised (characters, words) rows: one per group of pieces."""
        chars, words = self.counts(parts)
        return _normalized(group_sums(groups, chars)), _normalized(group_sums(groups, words))

    def transform(self, texts: Sequence[str]) -> Any:
        """One normalised row per text (the sum of its pieces), for training."""
        from scipy.sparse import hstack

        parts, groups = _split(texts)
        c, w = self.grouped(parts, groups)
        return hstack([c.to_scipy(), w.to_scipy()]).tocsr()


def _split(texts: Sequence[str]) -> tuple[list[str], list[list[int]]]:
    parts: list[str] = []
    groups: list[list[int]] = []
    for text in texts:
        own = pieces(text) or [text]
        groups.append(list(range(len(parts), len(parts) + len(own))))
        parts.extend(own)
    return parts, groups


@dataclass(frozen=True)
class NgramModel:
    """``sigmoid(features(x) · weights + bias)``; a text scores its most suspicious window.

    ``native`` is the C extension's ``window_logits`` (``_window_logits.c``) when it was
    built and this model is the one it implements (the default featurizer, contiguous
    float32 weights); else None, and the windows are scored in Python and numpy.
    """

    weights: Any  # float32 (2 * 2**BITS,)
    bias: float
    featurizer: Featurizer
    native: WindowLogits | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        native = native_window_logits()
        w = self.weights
        if not (
            self.featurizer == Featurizer.make()
            and isinstance(w, np.ndarray)
            and w.dtype == np.float32
            and w.flags.c_contiguous
            and w.shape == (2 * 2**BITS,)
        ):
            native = None
        object.__setattr__(self, "native", native)

    def reference(self) -> NgramModel:
        """This model on the pure-Python path (the C extension's reference, for tests)."""
        copy = replace(self)
        object.__setattr__(copy, "native", None)
        return copy

    @classmethod
    def fit(cls, texts: Sequence[str], labels: Sequence[int], *, c: float = 8.0) -> NgramModel:
        from sklearn.linear_model import LogisticRegression

        featurizer = Featurizer.make()
        model = LogisticRegression(
            C=c, max_iter=3000, random_state=SEED, class_weight="balanced", solver="liblinear"
        )
        model.fit(featurizer.transform(texts), np.asarray(labels))
        weights = np.asarray(model.coef_[0], dtype=np.float32)
        return cls(weights, float(model.intercept_[0]), featurizer)

    def _probabilities(self, parts: Sequence[str], groups: Sequence[Sequence[int]]) -> Any:
        c, w = self.featurizer.grouped(parts, groups)
        half = 2**BITS
        logits = dot(c, self.weights[:half]) + dot(w, self.weights[half:]) + self.bias
        return 1.0 / (1.0 + np.exp(-np.asarray(logits, dtype=np.float64)))

    def _window_probabilities(self, parts: Sequence[str], groups: Sequence[Sequence[int]]) -> Any:
        """What ``_probabilities`` gives, bit for bit: per window (``window_scores.py``) up to
        ``ROWS_FROM`` characters, where building CSR rows costs more than the arithmetic;
        beyond, through the CSR rows (sorting the entries of many windows costs more there).
        Neither loads SciPy: both are checked against it bit for bit in the tests. With the
        C extension (``native``), the same logits at every length, ~10x faster."""
        if self.native is not None:
            logits: Any = self.native(parts, groups, self.weights, self.bias, 2**BITS)
        elif sum(map(len, parts)) > ROWS_FROM:
            return self._probabilities(parts, groups)
        else:
            hashers = (self.featurizer.chars, self.featurizer.words)
            logits = window_logits(hashers, self.weights, self.bias, parts, groups)
        return 1.0 / (1.0 + np.exp(-np.asarray(logits, dtype=np.float64)))

    def predict(self, texts: Sequence[str]) -> Any:
        """The probability of each text as a whole (no windows)."""
        parts, groups = _split(texts)
        return self._probabilities(parts, groups)

    def scan(self, texts: Sequence[str]) -> tuple[list[float], list[str]]:
        """Per text: the highest probability over the whole text and its windows, and the
        text of that window."""
        parts: list[str] = []
        groups: list[list[int]] = []
        owner: list[int] = []
        for i, text in enumerate(texts):
            own = pieces(text) or [text]
            first = len(parts)
            parts.extend(own)
            for group in [range(len(own)), *window_groups(len(own))]:
                groups.append([first + j for j in group])
                owner.append(i)
        probabilities = self._window_probabilities(parts, groups)
        best = [-1.0] * len(texts)
        top = [-1] * len(texts)
        for g, i in enumerate(owner):
            if probabilities[g] > best[i]:
                best[i], top[i] = float(probabilities[g]), g
        where = [" ".join(parts[j] for j in groups[g]) if g >= 0 else "" for g in top]
        return [max(b, 0.0) for b in best], where


def sklearn_version() -> str:
    """scikit-learn's major.minor: the shipped weights are for the solver of this version
    (read from the installed distribution: importing it would cost the server ~160 MiB)."""
    from importlib import metadata

    try:
        version = metadata.version("scikit-learn")
    except metadata.PackageNotFoundError:
        import sklearn

        version = sklearn.__version__
    return ".".join(version.split(".")[:2])


def save(model: NgramModel, path: Path, key: dict[str, str]) -> None:
    """Write ``model`` (float16 weights, about 0.5 MB) with the ``key`` it was trained for."""
    with path.open("wb") as f:
        np.savez_compressed(
            f,
            weights=np.asarray(model.weights, dtype=np.float16),
            bias=np.asarray([model.bias]),
            key=np.asarray(json.dumps(key, sort_keys=True)),
        )


def load(path: Path, key: dict[str, str]) -> NgramModel | None:
    """The model at ``path`` if it was trained for ``key``; else None (then train)."""
    if not path.is_file():
        return None
    with np.load(path, allow_pickle=False) as data:
        if json.loads(str(data["key"])) != key:
            return None
        weights = np.asarray(data["weights"], dtype=np.float32)
        return NgramModel(weights, float(data["bias"][0]), Featurizer.make())
