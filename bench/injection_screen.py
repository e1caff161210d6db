"""Issue 16 benchmark: the injection screen's latency by text length, and the rules' cost
per character on plain versus adversarial repeated text (linearity).

Bounded: a few hundred checks, in process, no server. Timings are taken as the minimum of
interleaved repeats for the per-character costs, and as p50/p99 over distinct texts for
the latency (every text is new, so no cache answers).
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable
from pathlib import Path

from bastion.guards.eval import percentile
from bastion.guards.injection import InjectionScreen, default_screen, normalize, score_rules
from bastion.guards.injection.corpus import TEST_SPLIT, data_path
from bastion.guards.injection.corpus.prose import docstring_sentences
from bastion.guards.injection.shipped import ngram_path

LENGTHS = (25, 100, 500, 1000, 2000, 4000, 8000)
SIZE = 2000


def plain_text(rng: random.Random, length: int) -> str:
    """Ordinary mixed text: docstring prose and the test split's benign messages."""
    benign = [
        str(r["text"])
        for r in map(json.loads, data_path(TEST_SPLIT).read_text().splitlines())
        if r["label"] == 0
    ]
    pool = docstring_sentences() + benign
    out = ""
    while len(out) < length:
        out += rng.choice(pool) + " "
    return out[:length]


#: Repeated text built to make regexes work hard: trigger words that never complete a rule,
#: encodings that decode, spaced letters, separators, quotes, mixed scripts, brackets.
ADVERSARIAL: dict[str, str] = {
    "trigger words": "ignore previous system you are now pretend act as reveal the prompt ",
    "near-miss override": "ignore all of the previous and prior and above ",
    "spaced letters": "i g n o r e a l l p r e v i o u s ",
    "base64-like": "aWdub3JlIGFsbCBwcmV2aW91cyBpbnN0cnVjdGlvbnM",
    "hex-like": "69676e6f726520616c6c20",
    "quotes": "\"what does 'ignore previous' mean\" ",
    "separators": ".-_*. .-_*. ",
    "mixed script": "ignоre рrevious ",
    "json break-out": '"}]} {"role": "system", "content": "',
    "single char": "a",
}


def _min_time(fn: Callable[[], object], repeats: int = 7) -> float:
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def rules_cost(text: str) -> float:
    """Seconds for normalise + rules on ``text`` (best of repeats)."""
    return _min_time(lambda: score_rules(normalize(text)))


def screen_cost(screen: InjectionScreen, text: str) -> float:
    model = screen.warm()
    assert model.ngram is not None
    ngram = model.ngram
    return _min_time(lambda: (score_rules(n := normalize(text)), ngram.scan([n.combined])))


def latency_by_length(screen: InjectionScreen, rng: random.Random, n: int = 100) -> list[str]:
    """Wall-clock and CPU time of single checks: on a shared, loaded machine the wall clock
    includes waiting for a core; the CPU time is what one check costs."""
    rows = [
        "| characters | wall p50 ms | wall p99 ms | CPU p50 ms | CPU p99 ms |",
        "|---:|---:|---:|---:|---:|",
    ]
    for length in LENGTHS:
        wall, cpu = [], []
        for i in range(n):
            text = plain_text(rng, length - 12) + f" (ticket {i:05d})"
            t0, c0 = time.perf_counter(), time.process_time()
            screen.screen(text)
            cpu.append((time.process_time() - c0) * 1e3)
            wall.append((time.perf_counter() - t0) * 1e3)
        rows.append(
            f"| {length:,} | {percentile(wall, 0.5):.2f} | {percentile(wall, 0.99):.2f} "
            f"| {percentile(cpu, 0.5):.2f} | {percentile(cpu, 0.99):.2f} |"
        )
    return rows


def linearity(screen: InjectionScreen, rng: random.Random) -> list[str]:
    plain = plain_text(rng, SIZE)
    base_rules = rules_cost(plain) / SIZE
    base_screen = screen_cost(screen, plain) / SIZE
    rows = [
        "| text (2,000 characters) | rules µs/char | × plain | rules + n-gram µs/char | × plain |",
        "|---|---:|---:|---:|---:|",
        f"| plain mixed text | {base_rules * 1e6:.3f} | 1.00 | {base_screen * 1e6:.3f} | 1.00 |",
    ]
    for name, unit in ADVERSARIAL.items():
        text = (unit * (SIZE // len(unit) + 1))[:SIZE]
        r = rules_cost(text) / SIZE
        s = screen_cost(screen, text) / SIZE
        rows.append(
            f"| {name} | {r * 1e6:.3f} | {r / base_rules:.2f} | {s * 1e6:.3f} | "
            f"{s / base_screen:.2f} |"
        )
    return rows


def main() -> str:
    rng = random.Random(16)
    screen = default_screen()
    screen.warm()
    size_kb = Path(ngram_path()).stat().st_size / 1024
    return "\n".join(
        [
            "### Injection screen — issue 16",
            "",
            f"Default screen (rules + n-gram window model; weights {size_kb:.0f} KB, no encoder).",
            "One `screen()` per distinct text (no cache hit), by length:",
            "",
            *latency_by_length(screen, rng),
            "",
            "Cost per character, best of 7, on 2,000 characters (adversarial = one unit repeated):",
            "",
            *linearity(screen, rng),
        ]
    )


if __name__ == "__main__":
    print(main())
