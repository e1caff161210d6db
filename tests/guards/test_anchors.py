from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from bastion.guards.injection import normalize, rules
from bastion.guards.injection.anchors import anchors, fold, split_anchors
from bastion.guards.injection.patterns import PATTERNS
from bastion.guards.injection.rules import present_anchors

DATA = Path(__file__).parents[2] / "bastion" / "guards" / "data"


def test_case_sensitive_literals_are_anchors_as_written() -> None:
    """``(?-i:DAN)`` matches "DAN" only: its anchor is looked for unfolded, so "guidance"
    and "understand" do not make the jailbreak rules search a text."""
    assert split_anchors(r"\bjailbreak\b|(?-i:\b(?:DAN|STAN)\b)") == (
        frozenset({"jailbreak"}),
        frozenset({"DAN", "STAN"}),
    )
    assert split_anchors(r"(?-i:a(?i:bc)d)") == (frozenset({"bc"}), frozenset())
    assert "DAN" in present_anchors("you are DAN now")
    assert not {"DAN", "STAN", "dan", "stan"} & present_anchors("guidance: understand it")


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        (r"\bignore\b", {"ignore"}),
        (r"\b(?:ignore|disregard)\s+(?:all\s+)?instructions", {"instructions"}),
        (r"(?:ignore|skip) (?:the )?rules", {"rules"}),  # a tie on length: the smaller set
        (r"(?:ignore|disregard) (?:the )?list", {"ignore", "disregard"}),  # longest shortest
        (r"a[bc]d", {"a"}),  # a class breaks a run of literals
        (r"(?:x|y)?abc", {"abc"}),  # an optional part is never required
        (r"(?:abc)+z", {"abc"}),
        (r"(?:abc){0,3}", None),
        (r"[a-z]+\d", None),
        (r"(?-i:DAN)\b", {"dan"}),  # folded: compared with folded texts
    ],
)
def test_anchors_of_patterns(pattern: str, expected: set[str] | None) -> None:
    found = anchors(pattern)
    assert (found is None) if expected is None else found == frozenset(expected)


def test_fold_keeps_turkish_i_matchable() -> None:
    assert fold("İGNORE") == "ignore" and fold("ıgnore") == "ignore"
    assert re.search("ignore", "İGNORE", re.IGNORECASE)  # what re matches, anchors must too


def test_every_pattern_has_anchors() -> None:
    assert all(anchors(p) is not None for _, _, p in PATTERNS)


def _texts() -> list[str]:
    texts = []
    for name in ("injection_train.jsonl", "injection_eval.jsonl", "pii_eval.jsonl"):
        for line in (DATA / name).read_text(encoding="utf-8").splitlines():
            if line.strip():
                text = json.loads(line)["text"]
                texts += [text, text.upper(), text.lower()]
    return texts


def test_anchors_are_a_necessary_condition_on_every_labelled_text() -> None:
    """A pattern matching a view always has an anchor in it, so skipping views without
    one never changes a verdict."""
    compiled = [(pattern, needs) for _, _, pattern, needs in rules._COMPILED]
    matches = 0
    for text in _texts():
        normalized = normalize(text)
        for view in (normalized.text, *(v for _, v in normalized.decoded)):
            present = present_anchors(view)
            for pattern, needs in compiled:
                if pattern.search(view):
                    matches += 1
                    assert needs is not None and not needs.isdisjoint(present), (
                        pattern.pattern,
                        view,
                    )
    assert matches > 300  # the sets do exercise the patterns
