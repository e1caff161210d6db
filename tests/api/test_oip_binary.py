"""The OIP binary tensor data extension: request tensors in, requested outputs out."""

from __future__ import annotations

import gzip
import struct

import numpy as np
import orjson
import pytest

from bastion.api.oip_binary import decode_tensor, decompress, encode_tensor, split
from bastion.api.oip_outputs import render, requested, select
from bastion.api.oip_tensors import decode_inputs
from bastion.errors import InvalidRequest, MalformedBody, PayloadTooLarge


def _bytes_tensor(*items: bytes) -> bytes:
    return b"".join(struct.pack("<I", len(i)) + i for i in items)


def test_binary_inputs_decode_like_json_ones() -> None:
    matrix = np.arange(6, dtype=np.float32).reshape(2, 3)
    texts = _bytes_tensor(b"a", "é".encode())
    body = {
        "inputs": [
            {"name": "x", "shape": [2, 3], "datatype": "FP32",
             "parameters": {"binary_data_size": matrix.nbytes}},
            {"name": "t", "shape": [2], "datatype": "BYTES",
             "parameters": {"binary_data_size": len(texts)}},
        ]
    }  # fmt: skip
    rows = decode_inputs(body, matrix.tobytes() + texts)
    assert rows == [{"x": [0.0, 1.0, 2.0], "t": "a"}, {"x": [3.0, 4.0, 5.0], "t": "é"}]


@pytest.mark.parametrize(
    ("size", "binary", "field"),
    [
        (8, b"\0" * 4, "inputs[0].parameters.binary_data_size"),  # more than was sent
        (4, b"\0" * 8, "inputs"),  # bytes left over
        (4, b"\0" * 4, "inputs[0].data"),  # 4 bytes cannot fill 2 FP32 elements
        (-1, b"", "inputs[0].parameters.binary_data_size"),
    ],
)
def test_binary_sizes_that_do_not_add_up_are_refused(size: int, binary: bytes, field: str) -> None:
    body = {"inputs": [{"name": "x", "shape": [2], "datatype": "FP32",
                        "parameters": {"binary_data_size": size}}]}  # fmt: skip
    with pytest.raises(InvalidRequest) as info:
        decode_inputs(body, binary)
    assert info.value.details["field"] == field


def test_bytes_elements_must_be_whole_utf8_and_fill_the_shape() -> None:
    assert decode_tensor("BYTES", _bytes_tensor(b"x", b"yz"), 2, "w") == ["x", "yz"]
    for raw, count in ((_bytes_tensor(b"\xff"), 1), (b"\x05\0\0\0ab", 1), (b"\x01", 1),
                       (_bytes_tensor(b"x"), 2)):  # fmt: skip
        with pytest.raises(InvalidRequest):
            decode_tensor("BYTES", raw, count, "w")


def test_header_split_and_decompression() -> None:
    assert split(b'{"a":1}XYZ', "7") == (b'{"a":1}', b"XYZ")
    assert split(b"{}", None) == (b"{}", b"")
    for bad in ("99", "-1", "²", "x"):
        with pytest.raises(MalformedBody):
            split(b"{}", bad)
    assert decompress(gzip.compress(b"hello"), "gzip", 100) == b"hello"
    with pytest.raises(PayloadTooLarge):
        decompress(gzip.compress(b"x" * 1000), "gzip", 100)
    with pytest.raises(MalformedBody):
        decompress(b"not gzip", "gzip", 100)
    with pytest.raises(MalformedBody):
        decompress(b"", "br", 100)


TENSORS = [
    {"name": "label", "datatype": "BYTES", "shape": [2], "data": ["a", "b"]},
    {"name": "score", "datatype": "FP64", "shape": [2], "data": [0.5, 0.25]},
]


def test_only_the_requested_outputs_in_the_requested_order() -> None:
    wanted, default = requested(
        {"outputs": [{"name": "score", "parameters": {"binary_data": True}}, {"name": "label"}]}
    )
    chosen = select(TENSORS, wanted, default)
    assert [(t["name"], binary) for t, binary in chosen] == [("score", True), ("label", False)]
    with pytest.raises(InvalidRequest) as info:
        select(TENSORS, [("nope", False)], False)
    assert info.value.details["field"] == "outputs[0].name" and "label" in info.value.message
    everything, default = requested({"parameters": {"binary_data_output": True}})
    assert everything is None and default
    assert [b for _, b in select(TENSORS, everything, default)] == [True, True]
    for bad in ({"outputs": "label"}, {"outputs": [{}]}, {"parameters": {"binary_data_output": 1}}):
        with pytest.raises(InvalidRequest):
            requested(bad)


def test_binary_response_is_a_json_header_then_the_bytes() -> None:
    response = render({"id": "1"}, [(TENSORS[1], True), (TENSORS[0], False)], {})
    length = int(response.headers["inference-header-content-length"])
    head = orjson.loads(response.body[:length])
    assert head["outputs"][0]["parameters"]["binary_data_size"] == 16
    assert "data" not in head["outputs"][0] and head["outputs"][1]["data"] == ["a", "b"]
    assert np.frombuffer(response.body[length:], "<f8").tolist() == [0.5, 0.25]
    plain = render({"id": "1"}, [(TENSORS[0], False)], {})
    assert "inference-header-content-length" not in plain.headers
    assert plain.headers["content-type"] == "application/json"


def test_values_that_do_not_fit_their_datatype_stay_json() -> None:
    assert encode_tensor("FP64", [0.5, None]) is None
    assert encode_tensor("BYTES", ["a", 3]) is None
    assert encode_tensor("BYTES", ["ab"]) == b"\x02\0\0\0ab"


@pytest.mark.parametrize("dtype", [[], {}, None, "FP128"])
def test_a_datatype_that_is_not_a_name_is_refused(dtype: object) -> None:
    body = {"inputs": [{"name": "x", "shape": [1], "datatype": dtype, "data": [1]}]}
    with pytest.raises(InvalidRequest) as info:
        decode_inputs(body)
    assert info.value.details["field"] == "inputs[0].datatype"
