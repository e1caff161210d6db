"""Open Inference Protocol v2 tensors ↔ Bastion's per-item inputs and outputs."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import orjson

from bastion.api.oip_binary import decode_tensor
from bastion.backends.base import Prediction
from bastion.errors import InvalidRequest

# The protocol's tensor datatypes, in its order (the OpenAPI body lists them the same way).
DATATYPES = ("BOOL", "UINT8", "UINT16", "UINT32", "UINT64", "INT8", "INT16", "INT32", "INT64",
             "FP16", "FP32", "FP64", "BYTES")  # fmt: skip
_NUMERIC = frozenset(DATATYPES) - {"BYTES"}
_DATATYPES = frozenset(DATATYPES)


def _flatten(data: Any) -> list[Any]:
    if not isinstance(data, list):
        return [data]
    flat: list[Any] = []
    stack = [iter(data)]
    while stack:
        for item in stack[-1]:
            if isinstance(item, list):
                stack.append(iter(item))
                break
            flat.append(item)
        else:
            stack.pop()
    return flat


def _reshape(flat: list[Any], dims: Sequence[int]) -> list[Any]:
    if len(dims) <= 1:
        return flat
    step = math.prod(dims[1:])
    return [_reshape(flat[i * step : (i + 1) * step], dims[1:]) for i in range(dims[0])]


def _binary_size(tensor: Mapping[str, Any], where: str) -> int | None:
    params = tensor.get("parameters")
    size = params.get("binary_data_size") if isinstance(params, Mapping) else None
    if size is None:
        return None
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise InvalidRequest(
            f"{where}.parameters.binary_data_size: a byte count (a non-negative integer)",
            details={"field": f"{where}.parameters.binary_data_size"},
        )
    return size


def _tensor_rows(tensor: Mapping[str, Any], where: str, blob: bytes | None) -> list[Any]:
    """One request tensor → a list of its rows along the first (batch) dimension; ``blob``
    holds its elements when it was sent with the binary data extension."""
    if not isinstance(tensor, Mapping):
        raise InvalidRequest(f"{where}: each input must be an object", details={"field": where})
    name, shape, dtype = tensor.get("name"), tensor.get("shape"), tensor.get("datatype")
    if not isinstance(name, str) or not name:
        raise InvalidRequest(f"{where}.name: required string", details={"field": f"{where}.name"})
    if not isinstance(dtype, str) or dtype not in _DATATYPES:
        raise InvalidRequest(
            f"{where}.datatype: {dtype!r} is not one of {', '.join(sorted(_DATATYPES))}",
            details={"field": f"{where}.datatype"},
        )
    if (
        not isinstance(shape, list)
        or not shape
        or not all(isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape)
    ):
        raise InvalidRequest(
            f"{where}.shape: a non-empty list of non-negative integers",
            details={"field": f"{where}.shape"},
        )
    if blob is not None:
        return _reshape(decode_tensor(dtype, blob, math.prod(shape), f"{where}.data"), shape)
    if "data" not in tensor:
        raise InvalidRequest(
            f"{where}.data: required (or parameters.binary_data_size with the binary data "
            "extension)",
            details={"field": f"{where}.data"},
        )
    flat = _flatten(tensor.get("data"))
    if len(flat) != math.prod(shape):
        raise InvalidRequest(
            f"{where}.data: {len(flat)} elements do not fill shape {shape}",
            details={"field": f"{where}.data"},
        )
    if dtype == "BYTES":
        if not all(isinstance(x, str) for x in flat):
            raise InvalidRequest(
                f"{where}.data: BYTES elements must be strings", details={"field": f"{where}.data"}
            )
    elif not all(isinstance(x, int | float) for x in flat):
        raise InvalidRequest(
            f"{where}.data: {dtype} elements must be numbers", details={"field": f"{where}.data"}
        )
    return _reshape(flat, shape)


def _blobs(tensors: list[Any], binary: bytes) -> list[bytes | None]:
    """Each input's slice of the binary section (None: its data is in the JSON)."""
    blobs: list[bytes | None] = []
    offset = 0
    for i, tensor in enumerate(tensors):
        size = _binary_size(tensor, f"inputs[{i}]") if isinstance(tensor, Mapping) else None
        if size is not None and offset + size > len(binary):
            raise InvalidRequest(
                f"inputs[{i}].parameters.binary_data_size: {size} bytes, but only "
                f"{len(binary) - offset} are left after the JSON header",
                details={"field": f"inputs[{i}].parameters.binary_data_size"},
            )
        blobs.append(None if size is None else binary[offset : offset + size])
        offset += size or 0
    if offset != len(binary):
        raise InvalidRequest(
            f"inputs: {len(binary) - offset} bytes after the JSON header belong to no input "
            "(check Inference-Header-Content-Length and each binary_data_size)",
            details={"field": "inputs"},
        )
    return blobs


def decode_inputs(body: Mapping[str, Any], binary: bytes = b"") -> list[Any]:
    """One tensor → its rows are the items; several tensors → items keyed by tensor name."""
    tensors = body.get("inputs")
    if not isinstance(tensors, list) or not tensors:
        raise InvalidRequest(
            "inputs: a non-empty list of tensors is required", details={"field": "inputs"}
        )
    blobs = _blobs(tensors, binary)
    columns = [
        (
            t.get("name") if isinstance(t, Mapping) else None,
            _tensor_rows(t, f"inputs[{i}]", blob),
        )
        for i, (t, blob) in enumerate(zip(tensors, blobs, strict=True))
    ]
    if len(columns) == 1:
        return columns[0][1]
    sizes = {len(rows) for _, rows in columns}
    if len(sizes) != 1:
        raise InvalidRequest(
            "inputs: every tensor must have the same first dimension", details={"field": "inputs"}
        )
    rows: list[dict[str, Any]] = [{} for _ in range(sizes.pop())]
    for name, values in columns:
        for row, value in zip(rows, values, strict=True):
            row[str(name)] = value[0] if isinstance(value, list) and len(value) == 1 else value
    return rows


def _tensor(name: str, values: list[Any]) -> dict[str, Any]:
    first = values[0]
    if isinstance(first, bool):
        return {"name": name, "datatype": "BOOL", "shape": [len(values)], "data": values}
    if isinstance(first, int):
        return {"name": name, "datatype": "INT64", "shape": [len(values)], "data": values}
    if isinstance(first, float):
        return {"name": name, "datatype": "FP64", "shape": [len(values)], "data": values}
    if isinstance(first, str):
        return {"name": name, "datatype": "BYTES", "shape": [len(values)], "data": values}
    if isinstance(first, list) and all(isinstance(x, int | float) for x in first):
        flat = [x for row in values for x in row]
        return {"name": name, "datatype": "FP64", "shape": [len(values), len(first)], "data": flat}
    if isinstance(first, dict) and all(isinstance(x, int | float) for x in first.values()):
        labels = list(first)
        flat = [row.get(k) for row in values for k in labels]
        return {
            "name": name,
            "datatype": "FP64",
            "shape": [len(values), len(labels)],
            "data": flat,
            "parameters": {"labels": labels},
        }
    encoded = [orjson.dumps(v).decode() for v in values]
    return {
        "name": name,
        "datatype": "BYTES",
        "shape": [len(values)],
        "data": encoded,
        "parameters": {"content_type": "application/json"},
    }


def encode_outputs(predictions: Sequence[Prediction]) -> list[dict[str, Any]]:
    outputs = [p.output for p in predictions]
    tensors: list[dict[str, Any]] = []
    if all(isinstance(o, dict) for o in outputs):
        for key in outputs[0]:
            tensors.append(_tensor(key, [o.get(key) for o in outputs]))
    else:
        tensors.append(_tensor("output", outputs))
    if all(p.confidence is not None for p in predictions):
        tensors.append(_tensor("confidence", [float(p.confidence or 0.0) for p in predictions]))
    return tensors


_JSON_TO_DTYPE = {"string": "BYTES", "number": "FP64", "integer": "INT64", "boolean": "BOOL"}


def tensor_metadata(
    signature: Mapping[str, Any],
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Inputs and outputs metadata for ``GET /v2/models/{name}``, derived from the signature."""
    in_schema = signature.get("input_schema") or {}
    features = signature.get("feature_names")
    if features:
        inputs = [{"name": "input-0", "datatype": "FP32", "shape": [-1, len(features)]}]
    else:
        dtype = _JSON_TO_DTYPE.get(str(in_schema.get("type")), "BYTES")
        inputs = [{"name": "input-0", "datatype": dtype, "shape": [-1]}]
    out_schema = signature.get("output_schema") or {}
    outputs = []
    for key, prop in (out_schema.get("properties") or {}).items():
        kind = str(prop.get("type")) if isinstance(prop, Mapping) else ""
        if kind in _JSON_TO_DTYPE:
            outputs.append({"name": key, "datatype": _JSON_TO_DTYPE[kind], "shape": [-1]})
        else:
            outputs.append({"name": key, "datatype": "FP64", "shape": [-1, -1]})
    return inputs, outputs
