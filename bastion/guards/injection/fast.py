"""A faster encoder for the screen's optional embedding classifier: int8 matmuls, the first
N word pieces.

The bundled MiniLM export stores int8 weights but onnxruntime folds them back to float32 at
load, so every call streams ~90 MB of weights: ~2.5 ms before the first token, then ~0.25 ms
per token on one core. Multiplying in int8 instead (the same weights, activations quantized
per call) is 2-3x faster with the same held-out F1 (docs/guards.md). The screen's classifier
then sees at most the first ``tokens`` word pieces of a text (the rules always see all of
it), which bounds the time of one check.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import structlog

from bastion.backends.base import TextEncoder
from bastion.errors import ConfigError

log = structlog.get_logger(__name__)

# The graph rewrite's version, in the cached copy's name: a new rewrite builds a new copy.
REWRITE = "matmul-gather"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def runtime_version() -> str:
    """onnxruntime's major.minor: a quantized copy is rebuilt when it changes."""
    import onnxruntime

    return ".".join(onnxruntime.__version__.split(".")[:2])


def requantize(model: Any) -> Any:
    """Rewrite ``MatMul(x, Cast(W_int8) * scale)`` as ``DynamicQuantizeMatMul(x, W_int8,
    scale)``: the same int8 weights, now multiplied in int8 (activations quantized per call).

    ``model`` is an ``onnx.ModelProto``, changed in place and returned; other nodes are kept.
    """
    from onnx import helper, numpy_helper

    graph = model.graph
    initializers, producer, uses = _index(graph)
    nodes: list[Any] = []
    dropped: set[str] = set()
    scales: list[Any] = []
    for node in graph.node:
        mul = producer.get(node.input[1]) if node.op_type == "MatMul" else None
        cast = producer.get(mul.input[0]) if mul is not None and mul.op_type == "Mul" else None
        if (
            mul is None
            or cast is None
            or cast.op_type != "Cast"
            or cast.input[0] not in initializers
            or mul.input[1] not in initializers
            or uses.get(mul.output[0]) != 1
            or uses.get(cast.output[0]) != 1
        ):
            nodes.append(node)
            continue
        scale = numpy_helper.to_array(initializers[mul.input[1]]).reshape(-1)
        scales.append(numpy_helper.from_array(scale.astype(np.float32), mul.input[1] + "_col"))
        nodes.append(
            helper.make_node(
                "DynamicQuantizeMatMul",
                [node.input[0], cast.input[0], scales[-1].name],
                list(node.output),
                name=node.name + "_int8",
                domain="com.microsoft",
            )
        )
        dropped.update((mul.name, cast.name))
    kept = [n for n in nodes if n.name not in dropped]
    del graph.node[:]
    graph.node.extend(kept)
    graph.initializer.extend(scales)
    model.opset_import.append(helper.make_opsetid("com.microsoft", 1))
    return _gather_int8(model)


def _index(graph: Any) -> tuple[dict[str, Any], dict[str, Any], dict[str, int]]:
    """A graph's initializers by name, each output's producing node, and each name's uses."""
    initializers = {i.name: i for i in graph.initializer}
    producer = {out: node for node in graph.node for out in node.output}
    uses: dict[str, int] = {}
    for node in graph.node:
        for name in node.input:
            uses[name] = uses.get(name, 0) + 1
    return initializers, producer, uses


def _gather_int8(model: Any) -> Any:
    """Rewrite ``Gather(Cast(W_int8) * scale, ids)`` (the word and position embeddings) as
    ``Cast(Gather(W_int8, ids)) * Gather(scale, ids)``: the same numbers, bit for bit, but
    onnxruntime no longer folds the 30,522-row table to float32 at load (~40 MiB resident).
    Only row scales (``(rows, 1)``, gathered on axis 0) are rewritten."""
    from onnx import TensorProto, helper, numpy_helper

    graph = model.graph
    initializers, producer, uses = _index(graph)
    nodes: list[Any] = []
    dropped: set[str] = set()
    for node in graph.node:
        mul = producer.get(node.input[0]) if node.op_type == "Gather" else None
        cast = producer.get(mul.input[0]) if mul is not None and mul.op_type == "Mul" else None
        axis = next((a.i for a in node.attribute if a.name == "axis"), 0)
        if (
            mul is None
            or cast is None
            or cast.op_type != "Cast"
            or axis != 0
            or cast.input[0] not in initializers
            or mul.input[1] not in initializers
            or uses.get(mul.output[0]) != 1
            or uses.get(cast.output[0]) != 1
        ):
            nodes.append(node)
            continue
        rows = numpy_helper.to_array(initializers[cast.input[0]]).shape[0]
        if tuple(numpy_helper.to_array(initializers[mul.input[1]]).shape) != (rows, 1):
            nodes.append(node)
            continue
        out, ids = node.output[0], node.input[1]
        nodes += [
            helper.make_node(
                "Gather", [cast.input[0], ids], [out + "_q"], node.name + "_q", axis=0
            ),
            helper.make_node("Gather", [mul.input[1], ids], [out + "_s"], node.name + "_s", axis=0),
            helper.make_node(
                "Cast", [out + "_q"], [out + "_f"], node.name + "_f", to=TensorProto.FLOAT
            ),
            helper.make_node("Mul", [out + "_f", out + "_s"], [out], node.name + "_m"),
        ]
        dropped.update((mul.name, cast.name))
    kept = [n for n in nodes if n.name not in dropped]
    del graph.node[:]
    graph.node.extend(kept)
    return model


def quantized_copy(model_path: Path, cache_dir: Path, source_sha256: str | None = None) -> Path:
    """``model_path`` with int8 matmuls and embeddings (see :func:`requantize`), written once
    into ``cache_dir`` (about 0.3 s, 23 MB) by a child process, so that the server never
    holds the protobuf copies (~70 MiB that its allocator keeps). The file name holds the
    source's sha256, the rewrite's version and the runtime version; the write is atomic,
    since several workers may start at once."""
    sha = source_sha256 or _sha256(model_path)
    target = cache_dir / f"minilm-int8-{REWRITE}-{sha[:16]}-ort{runtime_version()}.onnx"
    if target.is_file():
        return target
    cache_dir.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(f".{os.getpid()}.tmp")
    code = "import sys; from bastion.guards.injection.fast import write_quantized; "
    code += "write_quantized(*sys.argv[1:])"
    here = str(Path(__file__).resolve().parents[3])  # this bastion, whatever sys.path says
    path = os.pathsep.join(p for p in (here, os.environ.get("PYTHONPATH", "")) if p)
    done = subprocess.run(
        [sys.executable, "-c", code, str(model_path), str(partial)],
        env={**os.environ, "PYTHONPATH": path},
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise ConfigError(
            f"could not write the int8 copy of the screen's encoder into {cache_dir}: "
            f"{done.stderr.strip()[-500:]}; check that the data directory is writable, or set "
            "guards.quantized_encoder: false"
        )
    partial.replace(target)
    log.info("injection_encoder_requantized", path=str(target))
    return target


def write_quantized(model_path: str, out_path: str) -> None:
    """The child's work for :func:`quantized_copy`: load, rewrite, write."""
    import onnx

    Path(out_path).write_bytes(requantize(onnx.load(model_path)).SerializeToString())


class TokenWindow:
    """A TextEncoder that encodes only the first ``tokens`` word pieces of each text."""

    def __init__(self, inner: TextEncoder, tokenizer_path: Path, tokens: int) -> None:
        self._inner = inner
        self._tokens = tokens
        from tokenizers import Tokenizer  # here: the screen's encoder is opt-in

        self._tokenizer = Tokenizer.from_file(str(tokenizer_path))
        self._tokenizer.no_padding()
        self._tokenizer.no_truncation()
        self.dimensions = inner.dimensions

    def cut(self, text: str) -> str:
        """The prefix of ``text`` that holds its first ``tokens`` word pieces."""
        head = text[: self._tokens * 16]  # no word piece is longer than this
        offsets = self._tokenizer.encode(head, add_special_tokens=False).offsets
        return head[: offsets[self._tokens - 1][1]] if len(offsets) > self._tokens else head

    def encode(self, texts: Sequence[str]) -> Any:
        return self._inner.encode([self.cut(t) for t in texts])
