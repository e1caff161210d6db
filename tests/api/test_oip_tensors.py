import pytest

from bastion.api.oip_tensors import decode_inputs, encode_outputs, tensor_metadata
from bastion.backends.base import Prediction
from bastion.errors import InvalidRequest


def test_one_2d_tensor_gives_rows_flat_or_nested() -> None:
    flat = {
        "inputs": [{"name": "x", "shape": [2, 3], "datatype": "FP32", "data": [1, 2, 3, 4, 5, 6]}]
    }
    nested = {
        "inputs": [
            {"name": "x", "shape": [2, 3], "datatype": "FP32", "data": [[1, 2, 3], [4, 5, 6]]}
        ]
    }
    assert decode_inputs(flat) == decode_inputs(nested) == [[1, 2, 3], [4, 5, 6]]


def test_bytes_tensor_gives_strings() -> None:
    body = {"inputs": [{"name": "text", "shape": [2], "datatype": "BYTES", "data": ["a", "b"]}]}
    assert decode_inputs(body) == ["a", "b"]


def test_named_tensors_give_objects() -> None:
    body = {
        "inputs": [
            {"name": "age", "shape": [2, 1], "datatype": "FP64", "data": [30, 40]},
            {"name": "city", "shape": [2], "datatype": "BYTES", "data": ["x", "y"]},
        ]
    }
    assert decode_inputs(body) == [{"age": 30, "city": "x"}, {"age": 40, "city": "y"}]


@pytest.mark.parametrize(
    ("tensor", "field"),
    [
        ({"name": "x", "shape": [2, 2], "datatype": "FP32", "data": [1, 2, 3]}, "inputs[0].data"),
        ({"name": "x", "shape": [1], "datatype": "FLOAT", "data": [1]}, "inputs[0].datatype"),
        ({"name": "x", "shape": [-1], "datatype": "FP32", "data": [1]}, "inputs[0].shape"),
        ({"name": "x", "shape": [1], "datatype": "FP32", "data": ["a"]}, "inputs[0].data"),
        ({"name": "x", "shape": [1], "datatype": "BYTES", "data": [1]}, "inputs[0].data"),
        ({"shape": [1], "datatype": "FP32", "data": [1]}, "inputs[0].name"),
    ],
)
def test_bad_tensors_are_invalid_requests(tensor: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidRequest) as info:
        decode_inputs({"inputs": [tensor]})
    assert info.value.details["field"] == field


def test_mismatched_batch_sizes() -> None:
    body = {
        "inputs": [
            {"name": "a", "shape": [2], "datatype": "FP32", "data": [1, 2]},
            {"name": "b", "shape": [1], "datatype": "FP32", "data": [1]},
        ]
    }
    with pytest.raises(InvalidRequest, match="same first dimension"):
        decode_inputs(body)


def test_outputs_become_typed_tensors() -> None:
    preds = [
        Prediction(
            {
                "label": "a",
                "class_id": 0,
                "probability": 0.9,
                "probabilities": {"a": 0.9, "b": 0.1},
            },
            0.9,
        ),
        Prediction(
            {
                "label": "b",
                "class_id": 1,
                "probability": 0.8,
                "probabilities": {"a": 0.2, "b": 0.8},
            },
            0.8,
        ),
    ]
    tensors = {t["name"]: t for t in encode_outputs(preds)}
    assert tensors["label"] == {
        "name": "label",
        "datatype": "BYTES",
        "shape": [2],
        "data": ["a", "b"],
    }
    assert tensors["class_id"]["datatype"] == "INT64"
    assert tensors["probabilities"]["shape"] == [2, 2]
    assert tensors["probabilities"]["data"] == [0.9, 0.1, 0.2, 0.8]
    assert tensors["probabilities"]["parameters"] == {"labels": ["a", "b"]}
    assert tensors["confidence"]["data"] == [0.9, 0.8]


def test_arbitrary_outputs_are_json_bytes() -> None:
    tensors = encode_outputs([Prediction([{"x": 1}]), Prediction([{"x": 2}])])
    assert tensors == [
        {
            "name": "output",
            "datatype": "BYTES",
            "shape": [2],
            "data": ['[{"x":1}]', '[{"x":2}]'],
            "parameters": {"content_type": "application/json"},
        }
    ]


def test_metadata_from_signature() -> None:
    inputs, outputs = tensor_metadata(
        {
            "feature_names": ["a", "b"],
            "output_schema": {
                "type": "object",
                "properties": {"label": {"type": "string"}, "probabilities": {"type": "object"}},
            },
        }
    )
    assert inputs == [{"name": "input-0", "datatype": "FP32", "shape": [-1, 2]}]
    assert outputs == [
        {"name": "label", "datatype": "BYTES", "shape": [-1]},
        {"name": "probabilities", "datatype": "FP64", "shape": [-1, -1]},
    ]
