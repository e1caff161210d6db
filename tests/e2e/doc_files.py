"""Files the documented commands name, built small and real (a page's fixture map picks them)."""

from __future__ import annotations

import csv
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bastion.demo.tabular import CLASSES, feature_names, train_breast_cancer


def _rows(n: int) -> list[tuple[dict[str, float], str]]:
    """``n`` breast-cancer rows (features by name) with their true label, both classes."""
    from sklearn.datasets import load_breast_cancer

    data = load_breast_cancer()
    names = feature_names()
    step = len(data.data) // n
    return [
        (dict(zip(names, data.data[i].tolist(), strict=True)), CLASSES[int(data.target[i])])
        for i in range(0, step * n, step)
    ]


def onnx_model(path: Path, c: float = 0.5) -> None:
    """The demo's breast-cancer classifier, as a reader's own ONNX file."""
    path.write_bytes(train_breast_cancer(c=c).artifact)


def signature(path: Path) -> None:
    path.write_text(json.dumps(train_breast_cancer(c=0.5).signature))


def features_csv(path: Path, *, labelled: bool = False, n: int = 40) -> None:
    rows = _rows(n)
    columns = [*feature_names(), *(["label"] if labelled else [])]
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, columns)
        writer.writeheader()
        for row, label in rows:
            writer.writerow({**row, **({"label": label} if labelled else {})})


def features_parquet(path: Path, n: int = 40) -> None:
    import pandas as pd

    pd.DataFrame([row for row, _ in _rows(n)]).to_parquet(path)


def golden_jsonl(path: Path, n: int = 20) -> None:
    """An eval set: input, expected label and a slice tag."""
    lines = [
        json.dumps({"input": row, "expected": label, "slices": {"size": _size(row)}})
        for row, label in _rows(n)
    ]
    path.write_text("\n".join(lines) + "\n")


def _size(row: dict[str, Any]) -> str:
    return "large" if row["mean_radius"] > 15 else "small"


def sklearn_model(path: Path) -> None:
    """A fitted scikit-learn classifier, saved as skops or joblib by the file's suffix."""
    from sklearn.datasets import load_breast_cancer
    from sklearn.linear_model import LogisticRegression

    data = load_breast_cancer()
    model = LogisticRegression(max_iter=5000).fit(data.data, data.target)
    if path.suffix == ".skops":
        import skops.io

        skops.io.dump(model, path)
    else:
        import joblib

        joblib.dump(model, path)


def copy_tree(source: Path, path: Path) -> None:
    shutil.copytree(source, path, dirs_exist_ok=True)


def customers_parquet(path: Path) -> None:
    """A feature table: one row per customer (docs/data.md's `customers`)."""
    import pandas as pd

    pd.DataFrame(
        {
            "customer_id": ["c1", "c2", "c3"],
            "tenure_days": [30, 400, 12],
            "plan": ["free", "pro", "free"],
            "monthly_spend": [0.0, 49.0, 0.0],
        }
    ).to_parquet(path)


def history_jsonl(path: Path, n: int = 20) -> None:
    """Backfill history: eval-set shaped rows with what was answered and the true label."""
    lines = [
        json.dumps({"input": row, "answered": label, "expected": label}) for row, label in _rows(n)
    ]
    path.write_text("\n".join(lines) + "\n")


def repository(name: str) -> Callable[[Path], None]:
    """A link to the repository's ``name``: an example that reads a shipped file by its path
    relative to the repository's root."""
    root = Path(__file__).resolve().parents[2]
    return lambda path: path.symlink_to(root / name)
