"""A window's state as bytes (an ``.npz`` of plain arrays, no pickle) and back."""

from __future__ import annotations

import io
import zipfile

import numpy as np
import numpy.typing as npt

from bastion.monitoring.window import Layout, WindowSnapshot

FloatArray = npt.NDArray[np.float64]


def encode(snapshot: WindowSnapshot) -> bytes:
    """Everything of the window but its layout (the reference gives that back)."""
    arrays: dict[str, npt.NDArray[np.generic]] = {
        "span": np.array([snapshot.start, snapshot.end], dtype=np.float64),
        "tallies": np.array(
            [snapshot.rows, snapshot.embedding_rows, snapshot.embedding_invalid], dtype=np.int64
        ),
        "numeric_invalid": np.array(snapshot.numeric_invalid, dtype=np.int64),
        "sample": snapshot.sample.astype(np.float32),
        "embedding_sample": snapshot.embedding_sample.astype(np.float32),
        "embedding_sum": (
            snapshot.embedding_sum if snapshot.embedding_sum is not None else np.zeros(0)
        ),
    }
    arrays |= {f"numeric_{i}": c for i, c in enumerate(snapshot.numeric_counts)}
    arrays |= {f"categorical_{j}": c for j, c in enumerate(snapshot.categorical_counts)}
    out = io.BytesIO()
    np.savez_compressed(out, allow_pickle=False, **arrays)
    return out.getvalue()


def decode(data: bytes, layout: Layout) -> WindowSnapshot:
    """The window saved in ``data``; ValueError when it does not fit ``layout``'s bins."""
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as npz:
            arrays = {name: npz[name] for name in npz.files}
    except (OSError, ValueError, zipfile.BadZipFile) as exc:
        raise ValueError(f"not a saved drift window: {exc}") from exc
    numeric = tuple(arrays.get(f"numeric_{i}") for i in range(len(layout.numeric)))
    categorical = tuple(arrays.get(f"categorical_{j}") for j in range(len(layout.categorical)))
    fits = all(
        c is not None and c.shape == (len(f.counts),)
        for c, f in zip(numeric + categorical, layout.numeric + layout.categorical, strict=True)
    )
    sample = arrays.get("sample", np.zeros((0, 0))).astype(np.float64)
    if not fits or sample.ndim != 2 or sample.shape[1] != len(layout.numeric):
        raise ValueError("the saved window does not follow this reference's bins")
    start, end = (float(v) for v in arrays["span"])
    rows, embedding_rows, embedding_invalid = (int(v) for v in arrays["tallies"])
    embedding_sum = arrays["embedding_sum"].astype(np.float64)
    return WindowSnapshot(
        layout=layout,
        start=start,
        end=end,
        rows=rows,
        numeric_counts=tuple(np.asarray(c, dtype=np.int64) for c in numeric),
        numeric_invalid=tuple(int(v) for v in arrays["numeric_invalid"]),
        sample=sample,
        categorical_counts=tuple(np.asarray(c, dtype=np.int64) for c in categorical),
        embedding_rows=embedding_rows,
        embedding_sum=embedding_sum if layout.embedding is not None else None,
        embedding_invalid=embedding_invalid,
        embedding_sample=arrays["embedding_sample"].astype(np.float64),
    )
