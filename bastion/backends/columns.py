"""The columnar seam of tabular backends: a matrix in, answer columns out.

A backend that can score a whole ``FeatureRows`` matrix at once implements ``MatrixBackend``
(ONNX, sklearn); any other backend gets the rows as dicts, as before. A classifier's answers
come back as ``ClassifierColumns``: the probability matrix and the winning class of each
row, which still *is* a sequence of ``Prediction`` (built on demand) for any reader that
wants one, and writes its rows' JSON text in one pass for the batch job's output file.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from typing import Any, Protocol, overload, runtime_checkable

import numpy as np
import orjson

from bastion.backends.base import Prediction
from bastion.core.columns import FeatureRows
from bastion.errors import ModelOutputInvalid


@runtime_checkable
class MatrixBackend(Protocol):
    """A backend that scores a float matrix in the contract's column order."""

    async def infer_matrix(self, rows: FeatureRows) -> Sequence[Prediction]: ...


class ClassifierColumns(Sequence[Prediction]):
    """One classifier answer per row, as columns (see the module's docstring).

    Row ``i``'s output is ``{label, class_id, probability, probabilities}`` exactly as
    ``classifier_predictions`` builds it: the first most probable class wins a tie, the
    probabilities are clipped to [0, 1], and the confidence is the winner's probability.
    """

    __slots__ = ("_items", "class_id", "classes", "probabilities", "probability")

    def __init__(self, probabilities: Any, classes: Sequence[str]) -> None:
        matrix = np.asarray(probabilities, dtype=np.float64)
        if matrix.ndim != 2 or matrix.shape[1] != len(classes):
            raise ModelOutputInvalid(
                f"the model returned probabilities of shape {matrix.shape} "
                f"for {len(classes)} classes"
            )
        self.classes: tuple[str, ...] = tuple(classes)
        self.probabilities = np.clip(matrix, 0.0, 1.0)
        self.class_id = self.probabilities.argmax(axis=1) if len(matrix) else np.zeros(0, int)
        self.probability = self.probabilities[np.arange(len(matrix)), self.class_id]
        self._items: list[Prediction] | None = None

    def __len__(self) -> int:
        return int(self.probabilities.shape[0])

    @overload
    def __getitem__(self, index: int) -> Prediction: ...

    @overload
    def __getitem__(self, index: slice) -> list[Prediction]: ...

    def __getitem__(self, index: int | slice) -> Prediction | list[Prediction]:
        return self.items()[index]

    def __iter__(self) -> Iterator[Prediction]:
        return iter(self.items())

    def items(self) -> list[Prediction]:
        if self._items is None:
            classes = self.classes
            self._items = [
                Prediction(
                    {
                        "label": classes[c],
                        "class_id": c,
                        "probability": row[c],
                        "probabilities": dict(zip(classes, row, strict=True)),
                    },
                    confidence=row[c],
                )
                for c, row in zip(self.class_id.tolist(), self.probabilities.tolist(), strict=True)
            ]
        return self._items

    def json_outputs(self) -> Any:
        """Each row's output as ``orjson.dumps(output).decode()`` would write it, as an Arrow
        string array: the floats formatted by one ``orjson`` pass over the matrix (so each
        is written as orjson writes a Python float), the rows joined by Arrow, in C."""
        import pyarrow as pa
        import pyarrow.compute as pc

        n, k = self.probabilities.shape
        if not n:
            return pa.array([], pa.string())
        flat = orjson.dumps(self.probabilities.ravel(), option=orjson.OPT_SERIALIZE_NUMPY)
        cells = _split_cells(flat)  # row-major, k per row
        labels = [orjson.dumps(c).decode() for c in self.classes]
        heads = pa.array([f'{{"label":{labels[c]},"class_id":{c},"probability":' for c in range(k)])
        start = np.arange(n, dtype=np.int64) * k
        parts = [
            heads.take(pa.array(self.class_id)),
            cells.take(pa.array(start + self.class_id)),
            pa.scalar(',"probabilities":{'),
        ]
        for j, label in enumerate(labels):
            parts += [pa.scalar(f"{',' if j else ''}{label}:"), cells.take(pa.array(start + j))]
        parts.append(pa.scalar("}}"))
        return pc.binary_join_element_wise(*parts, "")

    def canonical(self) -> bytes:
        """The answers for the audit record: ``{"classes", "dtype", "shape", "sha256"}``, the
        sha256 of the probability matrix's bytes (float64 little-endian, row-major, after
        clipping) — exactly the values of a typed job output's ``probabilities`` columns,
        row by row, which fix the label, class id and probability too. Hashed as bytes,
        not written out as text: the answers themselves are in the job's output file."""
        data = np.ascontiguousarray(self.probabilities, dtype="<f8")
        doc = {
            "classes": list(self.classes),
            "dtype": "float64-le",
            "shape": list(data.shape),
            "sha256": hashlib.sha256(data.data.cast("B")).hexdigest(),
        }
        return orjson.dumps(doc, option=orjson.OPT_SORT_KEYS)


def _split_cells(flat: bytes) -> Any:
    """``orjson``'s text of a flat float array (``[a,b,…]``) as an Arrow string array of its
    cells, cut at the commas by numpy (no Python string per cell): a float's JSON text
    holds no comma, so every comma is a boundary."""
    import pyarrow as pa

    text = np.frombuffer(flat, dtype=np.uint8)[1:-1]  # without the brackets
    commas = np.flatnonzero(text == ord(","))
    keep = np.ones(len(text), dtype=bool)
    keep[commas] = False
    # cell i spans text[starts[i]:ends[i]]; without the commas its offset shifts by i
    ends = np.append(commas, len(text))
    wide = len(text) >= 2**31  # Arrow's string offsets are int32 below 2 GiB
    offsets = np.zeros(len(ends) + 1, dtype=np.int64 if wide else np.int32)
    offsets[1:] = ends - np.arange(len(ends))
    kind = pa.LargeStringArray if wide else pa.StringArray
    array = kind.from_buffers(len(ends), pa.py_buffer(offsets), pa.py_buffer(text[keep]))
    return array.cast(pa.string()) if wide else array
