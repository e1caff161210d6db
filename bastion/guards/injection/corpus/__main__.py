"""``python -m bastion.guards.injection.corpus --write``: regenerate the training file."""

from __future__ import annotations

import argparse

from bastion.guards.injection.corpus.files import (
    TEST_SPLIT,
    TRAIN_FILE,
    data_path,
    test_examples,
    training_examples,
    write_jsonl,
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--write", action="store_true", help="write the training file")
    parser.add_argument(
        "--new-test-split", action="store_true", help="(once per version) write the test split"
    )
    args = parser.parse_args()
    if args.write:
        n = write_jsonl(data_path(TRAIN_FILE), training_examples())
        print(f"wrote {n} training examples to {data_path(TRAIN_FILE)}")
    if args.new_test_split:
        n = write_jsonl(data_path(TEST_SPLIT), test_examples())
        print(f"wrote {n} test examples to {data_path(TEST_SPLIT)}")


if __name__ == "__main__":
    main()
