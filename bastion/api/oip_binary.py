"""The Open Inference Protocol's binary tensor data extension (what ``tritonclient`` sends).

A request or response body is a JSON header followed by the raw bytes of the tensors that
carry ``parameters.binary_data_size`` instead of ``data``, in the order they are listed;
``Inference-Header-Content-Length`` is the header's length in bytes. Numeric tensors are
their elements little-endian in row-major order; a ``BYTES`` tensor is each element as a
4-byte little-endian length and then its bytes.
"""

from __future__ import annotations

import struct
import zlib
from typing import Any

import numpy as np

from bastion.errors import InvalidRequest, MalformedBody, PayloadTooLarge

HEADER_LENGTH = "inference-header-content-length"

DTYPES: dict[str, np.dtype[Any]] = {
    "BOOL": np.dtype("?"),
    "UINT8": np.dtype("<u1"),
    "UINT16": np.dtype("<u2"),
    "UINT32": np.dtype("<u4"),
    "UINT64": np.dtype("<u8"),
    "INT8": np.dtype("<i1"),
    "INT16": np.dtype("<i2"),
    "INT32": np.dtype("<i4"),
    "INT64": np.dtype("<i8"),
    "FP16": np.dtype("<f2"),
    "FP32": np.dtype("<f4"),
    "FP64": np.dtype("<f8"),
}
_LENGTH = struct.Struct("<I")


def split(raw: bytes, header_length: str | None) -> tuple[bytes, bytes]:
    """The JSON header and the binary section of a request body."""
    if header_length is None:
        return raw, b""
    if not (header_length.isascii() and header_length.isdigit()) or int(header_length) > len(raw):
        raise MalformedBody(
            f"Inference-Header-Content-Length: {header_length!r:.40} is not a byte count "
            f"within the {len(raw)}-byte body"
        )
    cut = int(header_length)
    return raw[:cut], raw[cut:]


def decompress(raw: bytes, encoding: str, limit: int) -> bytes:
    """A ``Content-Encoding: gzip|deflate`` body, inflated to at most ``limit`` bytes."""
    wbits = {"gzip": 16 + zlib.MAX_WBITS, "deflate": zlib.MAX_WBITS}.get(encoding.lower())
    if wbits is None:
        raise MalformedBody(f"Content-Encoding {encoding!r:.40} is not supported; gzip or deflate")
    inflater = zlib.decompressobj(wbits)
    try:
        out = inflater.decompress(raw, limit + 1)
    except zlib.error as exc:
        raise MalformedBody(f"the {encoding} body cannot be decompressed: {exc}") from exc
    if len(out) > limit:
        raise PayloadTooLarge(f"the decompressed body exceeds the limit of {limit} bytes")
    if not inflater.eof:
        raise MalformedBody(f"the {encoding} body is truncated")
    return out


def decode_bytes_tensor(raw: bytes, count: int, where: str) -> list[str]:
    """``count`` length-prefixed elements, as text."""
    items: list[str] = []
    offset = 0
    while offset < len(raw):
        if offset + 4 > len(raw):
            raise InvalidRequest(
                f"{where}: a BYTES element's length is cut short", details={"field": where}
            )
        (size,) = _LENGTH.unpack_from(raw, offset)
        offset += 4
        if offset + size > len(raw):
            raise InvalidRequest(
                f"{where}: a BYTES element runs past the tensor's data", details={"field": where}
            )
        try:
            items.append(raw[offset : offset + size].decode("utf-8"))
        except UnicodeDecodeError as exc:
            raise InvalidRequest(
                f"{where}: BYTES element {len(items)} is not UTF-8 text", details={"field": where}
            ) from exc
        offset += size
    if len(items) != count:
        raise InvalidRequest(
            f"{where}: {len(items)} BYTES elements do not fill the shape ({count})",
            details={"field": where},
        )
    return items


def decode_tensor(dtype: str, raw: bytes, count: int, where: str) -> list[Any]:
    """A binary tensor's elements as a flat list of Python values."""
    if dtype == "BYTES":
        return decode_bytes_tensor(raw, count, where)
    np_dtype = DTYPES[dtype]
    if len(raw) != count * np_dtype.itemsize:
        raise InvalidRequest(
            f"{where}: {len(raw)} bytes of {dtype} do not fill the shape ({count} elements of "
            f"{np_dtype.itemsize} bytes)",
            details={"field": where},
        )
    values: list[Any] = np.frombuffer(raw, dtype=np_dtype).tolist()
    return values


def encode_tensor(dtype: str, data: list[Any]) -> bytes | None:
    """A response tensor's bytes, or None when its values do not fit ``dtype`` (then it is
    sent as JSON, which the protocol allows per tensor)."""
    if dtype == "BYTES":
        parts = []
        for item in data:
            blob = item.encode() if isinstance(item, str) else None
            if blob is None:
                return None
            parts.append(_LENGTH.pack(len(blob)) + blob)
        return b"".join(parts)
    if not all(isinstance(x, int | float) for x in data):
        return None  # e.g. a missing value (JSON null), which a number cannot carry
    try:
        return np.asarray(data, dtype=DTYPES[dtype]).tobytes()
    except (TypeError, ValueError, OverflowError):
        return None
