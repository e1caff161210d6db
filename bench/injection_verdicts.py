"""The injection screen's verdicts on every labelled text the project has, to compare two
checkouts byte for byte, and the precision/recall of the two eval sets as the CLI judges
them (``bastion guards eval injection FILE``: threshold 0.5, untrusted 0.35).

``PYTHONPATH=<checkout> python -m bench.injection_verdicts OUT.jsonl`` writes one line per
text (the text's sha256, its score, flag and reasons, and the n-gram model's probability
with every bit, ``float.hex``) and prints the eval figures; ``cmp`` two outputs.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Iterator
from pathlib import Path

from bastion.guards.eval import evaluate_injection
from bastion.guards.injection import default_screen, normalize
from bastion.guards.injection.corpus import data_path
from bastion.guards.injection.quoted import quoted_documents
from bastion.guards.injection.segments import pieces

SETS = ("injection_test_v1.jsonl", "injection_eval.jsonl")
LABELLED = (*SETS, "injection_train.jsonl", "injection_seeds.jsonl")


def texts() -> Iterator[str]:
    """Every labelled text, its quoted documents and pieces, and the benign prose lines."""
    for name in LABELLED:
        for line in data_path(name).read_text(encoding="utf-8").splitlines():
            if line.strip():
                text = str(json.loads(line)["text"])
                yield text
                yield from quoted_documents(text)
                yield from pieces(text)
    yield from (line for line in data_path("injection_benign_prose.txt").read_text().split("\n"))


def main(out: str) -> str:
    screen = default_screen()
    model = screen.warm()
    assert model.ngram is not None
    seen: set[str] = set()
    with Path(out).open("w", encoding="utf-8") as f:
        for text in texts():
            if text in seen:
                continue
            seen.add(text)
            v = screen.screen(text)
            p_ngram = model.ngram.scan([normalize(text).combined])[0][0]
            row = {
                "sha256": hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest(),
                "score": v.score,
                "flagged": v.flagged,
                "reasons": list(v.reasons),
                "ngram": float(p_ngram).hex(),
            }
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    lines = [f"{len(seen)} distinct texts -> {out}"]
    for name in SETS:
        r = evaluate_injection(data_path(name), default_screen(), untrusted_threshold=0.35)
        s = r.scores
        lines.append(
            f"{name}: n={r.examples} P={s.precision!r} R={s.recall!r} F1={s.f1!r} "
            f"FPR={r.false_positive_rate!r} tp={s.tp} fp={s.fp} fn={s.fn} tn={r.true_negatives}"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    print(main(sys.argv[1] if len(sys.argv) > 1 else "injection_verdicts.jsonl"))
