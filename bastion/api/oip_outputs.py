"""The outputs an OIP inference answers with: only those requested, each as JSON or binary."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from starlette.responses import Response

from bastion.api.oip_binary import encode_tensor
from bastion.errors import InvalidRequest


def _flag(params: Any, key: str, where: str) -> bool | None:
    if params is None:
        return None
    if not isinstance(params, Mapping):
        raise InvalidRequest(f"{where}: must be an object", details={"field": where})
    value = params.get(key)
    if value is not None and not isinstance(value, bool):
        raise InvalidRequest(
            f"{where}.{key}: must be true or false", details={"field": f"{where}.{key}"}
        )
    return value


def requested(body: Mapping[str, Any]) -> tuple[list[tuple[str, bool]] | None, bool]:
    """The requested outputs as (name, binary) — None when the request names none — and
    whether the rest are binary (``parameters.binary_data_output``)."""
    default = bool(_flag(body.get("parameters"), "binary_data_output", "parameters"))
    outputs = body.get("outputs")
    if outputs is None:
        return None, default
    if not isinstance(outputs, list):
        raise InvalidRequest("outputs: must be a list of {name}", details={"field": "outputs"})
    wanted: list[tuple[str, bool]] = []
    for i, out in enumerate(outputs):
        where = f"outputs[{i}]"
        name = out.get("name") if isinstance(out, Mapping) else None
        if not isinstance(name, str) or not name:
            raise InvalidRequest(
                f"{where}.name: each requested output needs a name",
                details={"field": f"{where}.name"},
            )
        binary = _flag(out.get("parameters"), "binary_data", f"{where}.parameters")
        wanted.append((name, default if binary is None else binary))
    return wanted, default


def select(
    tensors: list[dict[str, Any]], wanted: list[tuple[str, bool]] | None, default: bool
) -> list[tuple[dict[str, Any], bool]]:
    """The tensors to answer with, in the requested order, each with its binary flag."""
    if wanted is None:
        return [(t, default) for t in tensors]
    by_name = {t["name"]: t for t in tensors}
    chosen = []
    for i, (name, binary) in enumerate(wanted):
        if name not in by_name:
            raise InvalidRequest(
                f"outputs[{i}].name: this model has no output {name!r:.80}; "
                f"it has {', '.join(sorted(by_name))}",
                details={"field": f"outputs[{i}].name"},
            )
        chosen.append((by_name[name], binary))
    return chosen


def render(
    out: dict[str, Any], chosen: list[tuple[dict[str, Any], bool]], headers: dict[str, str]
) -> Response:
    """The response: JSON, or a JSON header followed by the binary outputs' bytes."""
    blobs: list[bytes] = []
    tensors = []
    for tensor, binary in chosen:
        blob = encode_tensor(tensor["datatype"], tensor["data"]) if binary else None
        if blob is None:
            tensors.append(tensor)
            continue
        params = {**tensor.get("parameters", {}), "binary_data_size": len(blob)}
        tensors.append({k: v for k, v in tensor.items() if k != "data"} | {"parameters": params})
        blobs.append(blob)
    head = orjson.dumps({**out, "outputs": tensors}, option=orjson.OPT_SERIALIZE_NUMPY)
    if not blobs:
        return Response(head, 200, headers, media_type="application/json")
    headers["inference-header-content-length"] = str(len(head))
    return Response(head + b"".join(blobs), 200, headers, media_type="application/octet-stream")
