"""The corpus files in ``bastion/guards/data``: the generated training set, the frozen test."""

from __future__ import annotations

import json
from collections.abc import Iterable
from importlib.resources import files
from pathlib import Path

from bastion.guards.injection.corpus.build import SEED, Example, compose

TRAIN_FILE = "injection_train.jsonl"
SEEDS_FILE = "injection_seeds.jsonl"
TEST_SPLIT = "injection_test_v1.jsonl"
#: The digest of the frozen test split; a changed file is a new version, never an edit.
TEST_SPLIT_SHA256 = "e4a175f46c70ca48b9e681cfccca4c0c40a9540b30867e2038894299b63b1883"
TRAIN_ATTACKS = 3000
TRAIN_BENIGN = 3400
INTL_ATTACKS = 1200
INTL_BENIGN = 900
INTL_MORE_ATTACKS = 500
INTL_MORE_BENIGN = 300
INTL_EXTRA_ATTACKS = 900
INTL_EXTRA_BENIGN = 900
EN_ATTACKS = 300
EN_BENIGN = 900
EN_SECURITY = 300
TEST_ATTACKS = 800
TEST_BENIGN = 1000


def data_path(name: str) -> Path:
    return Path(str(files("bastion.guards") / "data" / name))


def _seeds() -> list[Example]:
    out = []
    with data_path(SEEDS_FILE).open(encoding="utf-8") as f:
        for line in f:
            if line.strip():
                record = json.loads(line)
                out.append(Example(record["text"], int(record["label"]), "seed", "any"))
    return out


def training_examples() -> list[Example]:
    """The hand-written seeds, the generated training side, then the multilingual and
    English phrase combinations (training only; no duplicates)."""
    from bastion.guards.injection.corpus.en_security import compose_security
    from bastion.guards.injection.corpus.en_templates import compose_en
    from bastion.guards.injection.corpus.intl import compose_intl
    from bastion.guards.injection.corpus.intl_templates_asia import PARTS_ASIA
    from bastion.guards.injection.corpus.intl_templates_europe import PARTS_EUROPE
    from bastion.guards.injection.corpus.intl_templates_more import PARTS_MORE

    out = _seeds()
    seen = {e.text for e in out}
    generated = (
        compose(False, TRAIN_ATTACKS, TRAIN_BENIGN)
        + compose_intl(INTL_ATTACKS, INTL_BENIGN)
        + compose_intl(INTL_MORE_ATTACKS, INTL_MORE_BENIGN, SEED + 10, PARTS_MORE)
        + compose_intl(INTL_EXTRA_ATTACKS // 2, INTL_EXTRA_BENIGN // 2, SEED + 20, PARTS_ASIA)
        + compose_intl(INTL_EXTRA_ATTACKS // 2, INTL_EXTRA_BENIGN // 2, SEED + 30, PARTS_EUROPE)
        + compose_en(EN_ATTACKS, EN_BENIGN)
        + compose_security(EN_SECURITY)
    )
    for example in generated:
        if example.text not in seen:
            seen.add(example.text)
            out.append(example)
    return out


def test_examples() -> list[Example]:
    """What the frozen split was generated from (used once, to write version 1)."""
    return compose(True, TEST_ATTACKS, TEST_BENIGN)


def write_jsonl(path: Path, examples: Iterable[Example]) -> int:
    lines = [json.dumps(e.as_dict(), ensure_ascii=False) for e in examples]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return len(lines)
