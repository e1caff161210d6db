"""InjectionScreen: normalise, score with rules and the embedding classifier, decide."""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bastion.backends.base import TextEncoder
from bastion.guards.injection.model import ScreenModel
from bastion.guards.injection.normalize import normalize
from bastion.guards.injection.rules import score_rules

DEFAULT_THRESHOLD = 0.5
#: The classifier sees this many leading characters (the encoder stops at 256 tokens anyway);
#: the rules always see the whole text. Encoder time grows with length (~0.3 ms per token).
DEFAULT_CLASSIFIER_CHARS = 1500
#: Classifier probabilities kept per distinct text. Chat clients re-send the whole conversation
#: (and the same system prompt) every turn, so most messages were screened before.
DEFAULT_CACHE_SIZE = 4096


@dataclass(frozen=True, slots=True)
class InjectionVerdict:
    """``score`` in [0, 1]; ``flagged`` when it reaches the threshold; ``reasons`` name why."""

    score: float
    flagged: bool
    reasons: tuple[str, ...]


class InjectionScreen:
    """Screens texts for prompt injection.

    The model is trained on first use from the bundled labelled set (tens of seconds, then
    kept in memory) unless one is given; call ``warm()`` at start-up to pay that cost there.
    ``encoder`` (optional) feeds the embedding classifier, if the model has one.
    ``screen`` is CPU-bound: async callers run it through ``asyncio.to_thread``.
    """

    def __init__(
        self,
        encoder: TextEncoder | None,
        threshold: float = DEFAULT_THRESHOLD,
        *,
        model: ScreenModel | None = None,
        training_path: str | Path | None = None,
        classifier_chars: int = DEFAULT_CLASSIFIER_CHARS,
        cache_size: int = DEFAULT_CACHE_SIZE,
    ) -> None:
        if not 0.0 < threshold <= 1.0:
            raise ValueError(f"threshold must be in (0, 1], got {threshold}")
        self.threshold = threshold
        self._classifier_chars = classifier_chars
        self._encoder = encoder
        self._model = model
        self._training_path = training_path
        self._lock = threading.Lock()
        self._cache_size = cache_size
        self._seen: OrderedDict[str, float] = OrderedDict()  # view text → probability (LRU)
        self._seen_lock = threading.Lock()
        # digest of a raw text → verdict (LRU): a text seen before (a chat's system prompt, a
        # template) skips normalising and the rules too, so it can be answered on the event
        # loop. Keyed by a 16-byte digest, so that its memory is fixed whatever the texts.
        self._verdicts: OrderedDict[bytes, InjectionVerdict] = OrderedDict()

    def warm(self) -> ScreenModel:
        """Train (once) and return the model."""
        if self._model is None:
            with self._lock:
                if self._model is None:
                    self._model = ScreenModel.train(self._encoder, self._training_path)
        return self._model

    def screen(self, text: str) -> InjectionVerdict:
        return self.screen_many([text])[0]

    def screen_known(self, texts: Sequence[str]) -> list[InjectionVerdict] | None:
        """The verdicts of texts screened before, or None if any text is new (then call
        ``screen_many``, in a thread: it may run the encoder). A few dict lookups."""
        keys = [_digest(t) for t in texts]
        with self._seen_lock:
            known = [self._verdicts.get(k) for k in keys]
            if any(v is None for v in known):
                return None
            for k in keys:
                self._verdicts.move_to_end(k)
        return [v for v in known if v is not None]

    def screen_many(self, texts: Sequence[str]) -> list[InjectionVerdict]:
        """One verdict per text, with a single batched encoder call.

        The noisy-or score is never below the rule score, so a text whose rules alone reach
        the threshold is flagged without the encoder; its score is then that lower bound.
        """
        if not texts:
            return []
        model = self.warm()
        normalized = [normalize(t) for t in texts]
        rules = [score_rules(n) for n in normalized]
        pending = [i for i, r in enumerate(rules) if r.score < self.threshold]
        probabilities = [0.0] * len(texts)
        scores = [r.score for r in rules]
        ngram = [0.0] * len(texts)
        if pending:
            views = [normalized[i].combined for i in pending]
            p_ngram, focus = [0.0] * len(views), views
            if model.ngram is not None:  # the most suspicious window of each text
                p_ngram, focus = model.ngram.scan(views)
            p = [0.0] * len(views)
            if model.classifier is not None and self._encoder is not None:
                p = self._probabilities(model, [f[: self._classifier_chars] for f in focus])
            for j, i in enumerate(pending):
                probabilities[i], ngram[i] = float(p[j]), float(p_ngram[j])
                scores[i] = model.combine(probabilities[i], rules[i].score, ngram[i])
        verdicts = []
        for rule, p_i, n_i, score in zip(rules, probabilities, ngram, scores, strict=True):
            reasons = rule.reasons + ((f"ngram:{n_i:.2f}",) if n_i >= 0.5 else ())
            reasons += (f"classifier:{p_i:.2f}",) if p_i >= 0.5 else ()
            verdicts.append(InjectionVerdict(round(score, 4), score >= self.threshold, reasons))
        with self._seen_lock:
            for text, verdict in zip(texts, verdicts, strict=True):
                self._verdicts[_digest(text)] = verdict
            while len(self._verdicts) > self._cache_size:
                self._verdicts.popitem(last=False)
        return verdicts

    def _probabilities(self, model: ScreenModel, views: list[str]) -> list[float]:
        """The classifier's probability per view; texts screened before come from the LRU."""
        with self._seen_lock:
            known = [self._seen.get(v) for v in views]
            for v, k in zip(views, known, strict=True):
                if k is not None:
                    self._seen.move_to_end(v)
        fresh = sorted({v for v, k in zip(views, known, strict=True) if k is None})
        found: dict[str, float] = {}
        if fresh and model.classifier is not None and self._encoder is not None:
            scored = model.classifier.predict(self._encoder.encode(fresh))
            found = dict(zip(fresh, (float(x) for x in scored), strict=True))
            with self._seen_lock:
                for v, x in found.items():
                    self._seen[v] = x
                while len(self._seen) > self._cache_size:
                    self._seen.popitem(last=False)
        return [found[v] if k is None else k for v, k in zip(views, known, strict=True)]


def _digest(text: str) -> bytes:
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()


def default_screen(threshold: float = DEFAULT_THRESHOLD) -> InjectionScreen:
    """The screen the server runs by default: rules and the shipped n-gram model (trained
    now if the shipped weights do not match), no encoder."""
    from bastion.guards.injection.shipped import shipped_ngram, train_ngram

    model = ScreenModel(None, ngram=shipped_ngram() or train_ngram())
    return InjectionScreen(None, threshold, model=model)
