"""What the screen's models are trained on: each labelled text and its windows.

The n-gram model scores a text by its most suspicious window (``segments.py``), so it is
trained on windows too: every window of a benign text is benign, and the windows of the
attack planted in a carrier (the ``payload`` of a generated example) are attacks. The
carrier windows around a payload are left out: they are benign text inside an attack.
"""

from __future__ import annotations

import json
from pathlib import Path

from bastion.guards.injection.normalize import normalize
from bastion.guards.injection.segments import windows


def read_records(path: str | Path) -> list[dict[str, object]]:
    with Path(path).open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def training_views(records: list[dict[str, object]]) -> tuple[list[str], list[int]]:
    """``(texts, labels)``: each normalised text, then its windows as described above."""
    texts: list[str] = []
    labels: list[int] = []
    for record in records:
        label = int(str(record["label"]))
        text = normalize(str(record["text"])).combined
        texts.append(text)
        labels.append(label)
        if label == 0:
            extra = windows(text)
        elif isinstance(record.get("payload"), str):
            extra = windows(normalize(str(record["payload"])).combined)
        else:
            extra = []
        for view in extra:
            if view != text:
                texts.append(view)
                labels.append(label)
    return texts, labels
