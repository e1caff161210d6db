"""The ``onnx`` flavor: a tabular model (classifier or regressor) served with onnxruntime."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from bastion.backends.base import ModelSpec, Prediction, SharedResources
from bastion.backends.columns import ClassifierColumns
from bastion.backends.threads import VersionThreads
from bastion.core.columns import FeatureRows
from bastion.errors import (
    BastionError,
    ConfigError,
    InvalidRequest,
    ModelNotReady,
)

if TYPE_CHECKING:
    import onnxruntime as ort

# onnxruntime (~20 MiB resident) is imported when the first session is made: a server
# with no ONNX model and no encoder never loads it.

# Batches up to this many rows run on the event loop: a thread hop would cost more than the run.
INLINE_MAX_ROWS = 64


def ort_errors() -> tuple[type[Exception], ...]:
    """onnxruntime's exception types (importing onnxruntime)."""
    from onnxruntime.capi import onnxruntime_pybind11_state as ort_state

    return (
        ort_state.Fail,
        ort_state.InvalidArgument,
        ort_state.InvalidGraph,
        ort_state.InvalidProtobuf,
        ort_state.NoSuchFile,
        ort_state.NoModel,
        ort_state.NotImplemented,
        ort_state.RuntimeException,
        ort_state.EPFail,
        ort_state.EngineError,
    )


_CLASS_LABEL_ATTRS = ("classlabels_strings", "classlabels_ints", "classlabels_int64s")


class map_onnx_errors:  # noqa: N801 - used as ``with map_onnx_errors(...)``, like a function
    """The one place where onnxruntime's exceptions become Bastion errors.

    A failure while loading means the artifact is not a usable ONNX model (ConfigError); a
    failure while running is the model's fault, never the client's (500). A class rather
    than a ``@contextmanager`` generator: it wraps every tabular run, and entering and
    leaving it costs a third as much.
    """

    __slots__ = ("loading", "model")

    def __init__(self, model: str, *, loading: bool = False) -> None:
        self.model, self.loading = model, loading

    def __enter__(self) -> None:
        return None

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> Literal[False]:
        if exc is None or not isinstance(exc, Exception):
            return False
        # not loaded: the error cannot be onnxruntime's (and is not worth loading it for)
        if "onnxruntime" not in sys.modules or not isinstance(exc, ort_errors()):
            return False
        name = type(exc).__name__
        if self.loading:
            raise ConfigError(
                f"model {self.model}: onnxruntime cannot load it ({name}): {exc}"
            ) from exc
        raise BastionError(f"model {self.model} failed in onnxruntime ({name}): {exc}") from exc


def new_session(
    model: Path | bytes, *, threads: int = 1, memory_arena: bool = True
) -> ort.InferenceSession:
    """A CPU session (from a file or bytes) with a small thread pool: the server owns the
    parallelism.

    ``memory_arena=False`` for a session that runs one small input at a time (the
    injection screen's encoder): onnxruntime's arena keeps the largest run's activations
    for the life of the process (one batch of 32 × 128 tokens through MiniLM: +411 MiB
    resident, never returned; without the arena +0–9 MiB), and batch-1 runs cost the same
    without it (3.1–3.6 ms either way). Large batches pay ~20–27 % more CPU without it
    (fresh buffers each run), so batched embeddings keep it. Pre-packing stays on: off, it
    saves ~7 MiB per MiniLM session but costs ~20 % CPU per batch-1 run
    (bench/RESULTS.md, issue 20 item 3).
    """
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.log_severity_level = 3
    options.enable_cpu_mem_arena = memory_arena
    source = model if isinstance(model, bytes) else str(model)
    return ort.InferenceSession(source, options, providers=["CPUExecutionProvider"])


_PLAIN_NUMBERS = frozenset({int, float})


def _bad(i: int, field: str, message: str) -> InvalidRequest:
    where = f"inputs[{i}]{field}"
    return InvalidRequest(f"{where}: {message}", details={"field": where})


def _row(i: int, item: Any, names: Sequence[str] | None, width: int | None) -> Sequence[Any]:
    """One item's values in feature order, each checked to be a number (bool is not)."""
    if isinstance(item, Mapping):
        if not names:
            raise _bad(i, "", "the signature names no features: send an array of numbers")
        try:
            row: Sequence[Any] = [item[name] for name in names]
        except KeyError:
            missing = [name for name in names if name not in item]
            raise _bad(i, f".{missing[0]}", f"missing features {', '.join(missing[:5])}") from None
    elif isinstance(item, list | tuple):
        if len(item) != width:
            raise _bad(i, "", f"expected {width} numbers, got {len(item)}")
        row = item
    else:
        raise _bad(i, "", "expected an object of features or an array of numbers")
    if not _PLAIN_NUMBERS.issuperset(map(type, row)):  # the fast path: JSON ints and floats
        for j, value in enumerate(row):
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise _bad(i, f".{names[j] if names else j}", f"{value!r} is not a number")
    return row


def feature_matrix(
    inputs: Sequence[Any], feature_names: Sequence[str] | None, width: int | None
) -> np.ndarray[Any, np.dtype[np.float32]]:
    """Stack items (objects keyed by feature name, or arrays of numbers) into float32 rows.

    Raises InvalidRequest naming the item and feature for anything the schema let through.
    """
    if feature_names:
        width = len(feature_names)
    elif width is None and inputs and isinstance(inputs[0], list | tuple):
        width = len(inputs[0])  # a model with a dynamic width: the first row sets it
    rows = [_row(i, item, feature_names, width) for i, item in enumerate(inputs)]
    with np.errstate(over="ignore"):  # too large for float32 becomes inf, refused below
        matrix = np.asarray(rows, dtype=np.float32).reshape(len(rows), width or 0)
    if not np.isfinite(matrix).all():  # one reduction; which row only when one is not
        i = int(np.flatnonzero(~np.isfinite(matrix).all(axis=1))[0])
        raise _bad(i, "", "every feature must be a finite number that fits in float32")
    return matrix


def classifier_predictions(probabilities: Any, classes: Sequence[str]) -> list[Prediction]:
    """One ``{label, class_id, probability, probabilities}`` per row; confidence = probability."""
    return ClassifierColumns(probabilities, classes).items()


def rows_matrix(rows: FeatureRows) -> np.ndarray[Any, np.dtype[np.float32]]:
    """A columnar batch as float32 rows, refused like ``feature_matrix`` refuses a row."""
    matrix = rows.float32()
    if rows.checked_by is not None:  # certified (contracts/numeric.py): |x| < 2**53, finite
        return matrix
    finite = np.isfinite(matrix).all(axis=1)
    if not finite.all():
        i = int(np.flatnonzero(~finite)[0])
        raise _bad(i, "", "every feature must be a finite number that fits in float32")
    return matrix


def _graph_class_labels(path: Path) -> list[str] | None:
    """The class labels skl2onnx writes into the classifier node, if there is one."""
    import onnx  # here: ~15 MiB resident that a server never reading labels does not pay

    graph = onnx.load(str(path), load_external_data=False).graph
    for node in graph.node:
        for attr in node.attribute:
            if attr.name in _CLASS_LABEL_ATTRS:
                values = onnx.helper.get_attribute_value(attr)
                return [v.decode() if isinstance(v, bytes) else str(v) for v in values]
    return None


class OnnxModel:
    """A loaded ONNX classifier or regressor: float32 matrix in, one Prediction per row out."""

    def __init__(self, name: str, path: Path, classes: Sequence[str] | None = None) -> None:
        self.name = name
        with map_onnx_errors(name, loading=True):
            self._session = new_session(path)
        inputs, outputs = self._session.get_inputs(), self._session.get_outputs()
        if len(inputs) != 1:
            names = ", ".join(i.name for i in inputs)
            raise ConfigError(f"model {name}: expected one input tensor, found {names}")
        self._input = inputs[0].name
        shape = inputs[0].shape
        self.width: int | None = shape[1] if len(shape) == 2 and isinstance(shape[1], int) else None
        self._outputs = [o.name for o in outputs]
        probs = [o for o in outputs if o.name == "probabilities"] or [
            o for o in outputs[1:] if o.type.startswith("seq(map") or len(o.shape or []) == 2
        ]
        self._probabilities = probs[0].name if len(outputs) > 1 and probs else None
        if len(outputs) > 1 and self._probabilities is None:
            raise ConfigError(
                f"model {name}: outputs {', '.join(self._outputs)} are neither a classifier's "
                "(label, probabilities) nor a regressor's single tensor"
            )
        self.classes = list(classes or []) or (
            _graph_class_labels(path) if self._probabilities else None
        )
        columns = (
            probs[0].shape[1] if self._probabilities and len(probs[0].shape or []) == 2 else None
        )
        if self.classes and isinstance(columns, int) and columns != len(self.classes):
            raise ConfigError(
                f"model {name}: {len(self.classes)} classes named for {columns} probabilities"
            )

    def predict(self, matrix: np.ndarray[Any, np.dtype[np.float32]]) -> list[Prediction]:
        answers = self.predict_columns(matrix)
        return answers if isinstance(answers, list) else answers.items()

    def predict_columns(
        self, matrix: np.ndarray[Any, np.dtype[np.float32]]
    ) -> ClassifierColumns | list[Prediction]:
        """A classifier's answers as columns; a regressor's as predictions."""
        rows = len(matrix)
        if rows == 1:
            # onnxruntime takes a matrix-vector path for one row, whose float rounding differs
            # from the path of every larger batch: doubled, a row answers the same however
            # the batcher grouped it.
            matrix = np.concatenate((matrix, matrix))
        with map_onnx_errors(self.name):
            if self._probabilities is None:
                (values,) = self._session.run(None, {self._input: matrix})
                return regression_predictions(values, len(matrix))[:rows]
            (probabilities,) = self._session.run([self._probabilities], {self._input: matrix})
        if isinstance(probabilities, list):  # a ZipMap output: one {class: p} dict per row
            probabilities = [list(row.values()) for row in probabilities]
        probabilities = probabilities[:rows]
        classes = self.classes or [str(i) for i in range(np.shape(probabilities)[1])]
        return ClassifierColumns(probabilities, classes)


def regression_predictions(values: Any, rows: int) -> list[Prediction]:
    """One ``{value}`` per row: a float, or a list of floats for a multi-output model."""
    matrix = np.asarray(values, dtype=np.float64).reshape(rows, -1)
    if matrix.shape[1] == 1:
        return [Prediction({"value": v}) for v in matrix[:, 0].tolist()]
    return [Prediction({"value": row}) for row in matrix.tolist()]


class OnnxBackend:
    """Serves an ONNX tabular model: one ``session.run`` per batch."""

    def __init__(self, spec: ModelSpec, resources: SharedResources) -> None:
        self._spec = spec
        self._label = f"'{spec.name}' v{spec.version}"
        self._threads = VersionThreads(self._label)
        names = spec.signature.get("feature_names")
        self._feature_names: list[str] | None = [str(n) for n in names] if names else None
        self._model: OnnxModel | None = None

    async def load(self) -> None:
        path = self._spec.artifact_path
        if path is None:
            raise ConfigError(f"model {self._label}: the onnx flavor needs a model file")
        classes = self._spec.signature.get("classes")
        model = await asyncio.to_thread(OnnxModel, self._label, path, classes)
        names = self._feature_names
        if names and model.width is not None and model.width != len(names):
            raise ConfigError(
                f"model {self._label}: the signature names {len(names)} features "
                f"but the model takes {model.width}"
            )
        self._model = model

    async def infer(self, inputs: Sequence[Any]) -> list[Prediction]:
        if len(inputs) <= INLINE_MAX_ROWS:
            return self._infer(inputs)
        return await self._threads.run(self._infer, inputs)

    async def infer_matrix(self, rows: FeatureRows) -> Sequence[Prediction]:
        """The columnar path (``MatrixBackend``): rows already in the contract's order."""
        if self._feature_names is None or list(rows.names) != self._feature_names:
            return await self.infer(rows)  # another column order: the row path decides
        return await self._threads.run(self._infer_matrix, rows)

    def _infer_matrix(self, rows: FeatureRows) -> Sequence[Prediction]:
        if self._model is None:
            raise ModelNotReady(f"model {self._label} is not loaded", retry_after=1)
        if not len(rows):
            return []
        return self._model.predict_columns(rows_matrix(rows))

    def _infer(self, inputs: Sequence[Any]) -> list[Prediction]:
        if self._model is None:
            raise ModelNotReady(f"model {self._label} is not loaded", retry_after=1)
        if not inputs:
            return []
        matrix = feature_matrix(inputs, self._feature_names, self._model.width)
        return self._model.predict(matrix)

    async def aclose(self) -> None:
        self._model = None
        self._threads.close()
