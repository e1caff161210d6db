"""The generated corpus: the frozen test split stays frozen and apart from training."""

from __future__ import annotations

import hashlib
import json
from collections import Counter

from bastion.guards.injection.corpus import TEST_SPLIT, TEST_SPLIT_SHA256, data_path
from bastion.guards.injection.corpus.build import part
from bastion.guards.injection.corpus.files import TRAIN_FILE, training_examples


def _records(name: str) -> list[dict[str, object]]:
    with data_path(name).open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def _key(text: object) -> str:
    return " ".join(str(text).casefold().split())


def test_the_test_split_is_frozen() -> None:
    """Version 1 never changes; a new split is a new file with a new version number."""
    digest = hashlib.sha256(data_path(TEST_SPLIT).read_bytes()).hexdigest()
    assert digest == TEST_SPLIT_SHA256


def test_no_test_text_is_trained_on() -> None:
    train = {_key(r["text"]) for r in _records(TRAIN_FILE)}
    for name in (TEST_SPLIT, "injection_eval.jsonl"):
        held_out = [r for r in _records(name) if _key(r["text"]) in train]
        assert held_out == [], f"{name} texts found in the training file"


def test_the_training_file_is_what_the_generator_gives() -> None:
    """`python -m bastion.guards.injection.corpus --write` reproduces it exactly."""
    expected = [e.as_dict() for e in training_examples()]
    assert _records(TRAIN_FILE) == expected


def test_the_test_split_covers_the_kinds_and_languages() -> None:
    records = _records(TEST_SPLIT)
    kinds = Counter(str(r["kind"]) for r in records)
    for kind in (
        "indirect_document", "indirect_email", "tool_result", "override_soft", "extraction",
        "roleplay", "multilingual", "benign_document", "benign_email", "benign_tool_result",
        "benign_security", "benign_trigger_words", "benign_assistant", "benign_code",
    ):  # fmt: skip
        assert kinds[kind] > 0, kind
    languages = {str(r["lang"]) for r in records if r["label"] == 1}
    assert {"de", "es", "zh", "fr", "it", "pt", "ja", "ru"} <= languages
    assert any(r["source"] == "tool" for r in records)
    labels = Counter(int(str(r["label"])) for r in records)
    assert labels[0] > 300 and labels[1] > 300


def test_seed_lists_split_by_position() -> None:
    items = list(range(10))
    assert part(items, test=True) == [3, 7]
    assert part(items, test=False) == [0, 1, 2, 4, 5, 6, 8, 9]
