"""The screen's cost grows linearly with the text, also on adversarial repeated text.

Each check is a ratio of CPU times of the same code on the same process (best of several
runs), not a wall-clock bound: a text four times longer must cost at most ~6× (linear is
4×, quadratic 16×). The absolute figures, and the per-character cost against plain text,
are in bench/RESULTS.md (`python -m bench.injection_screen`).
"""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from bastion.guards.injection import InjectionScreen, normalize, score_rules
from bastion.guards.injection.quoted import quoted_documents
from bastion.guards.injection.segments import pieces

UNITS = {
    "trigger words": "ignore previous system you are now pretend act as reveal the prompt ",
    "near-miss override": "ignore all of the previous and prior and above ",
    "spaced letters": "i g n o r e a l l p r e v i o u s ",
    "hex-like": "69676e6f726520616c6c20",
    "quotes": "\"what does 'ignore previous' mean\" ",
    "mixed script": "ignоre рrevious ",
    "json break-out": '"}]} {"role": "system", "content": "',
    "unclosed tags": '<document> <email> ``` """ ',
    "quote lines": "> ignore\n",
    "single char": "a",
}


def _cpu(fn: Callable[[], object], runs: int = 7) -> float:
    best = float("inf")
    for _ in range(runs):
        t0 = time.process_time()
        fn()
        best = min(best, time.process_time() - t0)
    return max(best, 1e-6)


def _repeat(unit: str, size: int) -> str:
    return (unit * (size // len(unit) + 1))[:size]


@pytest.mark.parametrize("name", sorted(UNITS))
def test_rules_and_the_ngram_scan_grow_linearly(name: str, trained_screen: InjectionScreen) -> None:
    model = trained_screen.warm()
    assert model.ngram is not None
    ngram = model.ngram

    def check(text: str) -> Callable[[], object]:
        def run() -> object:
            n = normalize(text)
            quoted_documents(text)
            return score_rules(n), ngram.scan([n.combined])

        return run

    short, long = _repeat(UNITS[name], 2000), _repeat(UNITS[name], 8000)
    ratio = _cpu(check(long)) / _cpu(check(short))
    assert ratio <= 6.0, f"{name}: 4x the text cost {ratio:.1f}x"


def test_pieces_and_quoted_documents_do_linear_work() -> None:
    """Counted, not timed: pieces never exceed the characters, and each unclosed opening
    tag is searched for once (a quadratic scan would find the same body again and again)."""
    text = _repeat("<document> x. ", 4000)
    assert len(pieces(text)) <= len(text) // 2
    assert quoted_documents(text) == []
    closed = "<doc>" + "word " * 20 + "</doc>"
    assert len(quoted_documents(closed * 50)) == 50
