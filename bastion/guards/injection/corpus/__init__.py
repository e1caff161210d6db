"""The injection screen's labelled corpus, generated from hand-written seeds.

``python -m bastion.guards.injection.corpus --write`` regenerates the training file
(``data/injection_train.jsonl``: the hand-written ``injection_seeds.jsonl`` plus the generated
training side). The test split ``data/injection_test_v1.jsonl`` was generated once from the
test side of the seeds and is **frozen**: it is never regenerated or trained on (a test checks
its digest and that no test text is in the training file). A new test split gets a new
version number.
"""

from __future__ import annotations

from bastion.guards.injection.corpus.build import Example, compose
from bastion.guards.injection.corpus.files import (
    TEST_SPLIT,
    TEST_SPLIT_SHA256,
    data_path,
    training_examples,
    write_jsonl,
)

__all__ = [
    "TEST_SPLIT",
    "TEST_SPLIT_SHA256",
    "Example",
    "compose",
    "data_path",
    "training_examples",
    "write_jsonl",
]
