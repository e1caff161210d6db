"""Issue 20: the CPU one new text costs the injection screen, stage by stage.

Every text is new (a counter in it), so no cache answers; each figure is the best of
several rounds of process CPU time per text, for a short chat message and a paragraph of
prose: normalisation, the rules, the n-gram scan, and ``screen_many`` whole (which also
keeps the verdict). Two checkouts compare by alternating runs:
``PYTHONPATH=<checkout> python -m bench.screen_new_text [texts] [rounds]``; for counts that do
not move with the machine's load, run it under ``valgrind --tool=callgrind``.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any

import orjson

from bastion.guards.injection import default_screen, normalize, score_rules

TEXTS = {
    "short": "hello there, message {i}",
    "paragraph": (
        "Could you summarise the notes from today's planning meeting for the team? We agreed "
        "to ship the billing change on Friday, and Dana will write the release note "
        "(ticket {i})."
    ),
}


def _best(run: Callable[[Any], object], inputs: list[Any], rounds: int) -> float:
    best = float("inf")
    for _ in range(rounds):
        started = time.process_time()
        for x in inputs:
            run(x)
        best = min(best, (time.process_time() - started) / len(inputs))
    return round(best * 1e6, 1)


def main(count: int = 2000, rounds: int = 7) -> str:
    screen = default_screen()
    model = screen.warm()
    assert model.ngram is not None
    scan = model.ngram.scan
    out: dict[str, Any] = {"native": getattr(model.ngram, "native", None) is not None}
    for name, template in TEXTS.items():
        texts = [template.format(i=i) for i in range(count)]
        normalized = [normalize(t) for t in texts]
        views = [n.combined for n in normalized]
        fresh = iter(range(10**9))  # screen_many keeps verdicts: every round new texts

        def whole(text: str, fresh: Any = fresh) -> object:
            return screen.screen_many([f"{text} #{next(fresh)}"])

        out[name] = {
            "normalize_us": _best(normalize, texts, rounds),
            "rules_us": _best(score_rules, normalized, rounds),
            "ngram_scan_us": _best(lambda v: scan([v]), views, rounds),
            "screen_many_us": _best(whole, texts, rounds),
        }
    return orjson.dumps(out).decode()


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:3]]
    print(main(*args))
