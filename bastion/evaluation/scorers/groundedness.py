"""Groundedness: does an answer's content come from the chunks it cites?

For each row the raw output is ``{"answer": TEXT, "citations": [{"text": …}, …]}`` (what a
prompt eval run records, see ``bastion/prompts/evaluate.py``). The answer is split into
sentences; a sentence is supported when at least ``threshold`` of its content words (lowercase
words of three or more letters or digits, common function words left out) occur in the cited
chunks' text. A row's groundedness is the share of its sentences that are supported; an answer
with no content words claims nothing and counts as grounded, an answer citing nothing that does
claim something counts as not grounded. Lexical support is a floor, not a proof: an answer
that copies words in a false order passes; a paraphrase may fail (raise the threshold's margin
for abstractive answers).

Metrics: ``groundedness`` (mean over rows) and ``grounded_rate`` (share of rows whose every
sentence is supported).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from bastion.errors import InvalidRequest
from bastion.evaluation.base import Observations

_WORD = re.compile(r"[^\W_]{3,}", re.UNICODE)
_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+")
_FUNCTION_WORDS = """
the and for are but not you all any can had her was one our out has have this that with from
they will would there their what which when where who whom why how into than then them these
those such also only just very more most some other over under about after before again each
both few its itself him his she hers ours your yours were been being does did doing should
could may might must shall upon onto per via yes nor too own same here whose while because
until against between through during above below off further once
"""
_STOP = frozenset(_FUNCTION_WORDS.split())


def content_words(text: str) -> list[str]:
    return [w for w in (m.group(0).lower() for m in _WORD.finditer(text)) if w not in _STOP]


def _cited_text(citations: Any) -> str:
    if not isinstance(citations, list):
        return ""
    return "\n".join(
        str(c.get("text", "")) for c in citations if isinstance(c, Mapping) and c.get("text")
    )


def row_groundedness(answer: str, cited: Iterable[str], threshold: float) -> float:
    """Share of the answer's sentences whose content words are at least ``threshold``
    found in ``cited`` (1.0 for an answer with no content words)."""
    vocabulary = {w for text in cited for w in content_words(text)}
    sentences = [words for s in _SENTENCE.split(answer) if (words := content_words(s))]
    if not sentences:
        return 1.0
    supported = sum(
        sum(w in vocabulary for w in words) / len(words) >= threshold for words in sentences
    )
    return supported / len(sentences)


def _answer(raw: Any) -> tuple[str, str]:
    if isinstance(raw, Mapping):
        return str(raw.get("answer") or ""), _cited_text(raw.get("citations"))
    return (raw if isinstance(raw, str) else ""), ""


@dataclass(frozen=True, slots=True)
class Groundedness:
    threshold: float = 0.6
    name: str = "groundedness"

    def __post_init__(self) -> None:
        if not 0.0 < self.threshold <= 1.0:
            raise InvalidRequest(
                f"groundedness: the threshold must be in (0, 1], not {self.threshold}; "
                "e.g. groundedness:0.6",
                details={"field": "scorers"},
            )

    @classmethod
    def parse(cls, arg: str) -> Groundedness:
        if not arg:
            return cls()
        try:
            return cls(float(arg))
        except ValueError as exc:
            raise InvalidRequest(
                f"groundedness: {arg!r} is not a number; e.g. groundedness:0.6",
                details={"field": "scorers"},
            ) from exc

    def score(self, obs: Observations) -> dict[str, float]:
        if not len(obs):
            return {}
        values = []
        for raw in obs.raw:
            answer, cited = _answer(raw)
            values.append(row_groundedness(answer, [cited], self.threshold))
        return {
            "groundedness": sum(values) / len(values),
            "grounded_rate": sum(v >= 1.0 for v in values) / len(values),
        }
