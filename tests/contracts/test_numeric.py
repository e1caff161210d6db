"""The whole-batch check of object-of-numbers contracts: a shortcut that never changes a verdict."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from bastion.contracts.numeric import numeric_records
from bastion.contracts.schema import Contract
from bastion.demo.tabular import input_schema
from bastion.errors import InvalidRequest

NAMES = ["a", "b", "c"]


def bounded() -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {
            "a": {"type": "number", "minimum": 0},
            "b": {"type": "number", "exclusiveMaximum": 10},
            "c": {"type": "number"},
        },
        "required": NAMES,
        "additionalProperties": False,
    }


def test_the_tabular_demo_contract_takes_the_batch_check() -> None:
    check = numeric_records(input_schema(NAMES))
    assert check is not None
    assert check.all_valid([{"a": 1, "b": 2.5, "c": -3}] * 5)


@pytest.mark.parametrize(
    "item",
    [
        {"a": 1, "b": 2},  # missing
        {"a": 1, "b": 2, "c": 3, "d": 4},  # extra
        {"a": 1, "b": "2", "c": 3},  # a string
        {"a": True, "b": 2, "c": 3},  # a bool is not a number
        {"a": 1, "b": None, "c": 3},  # a null
        [1, 2, 3],  # an array item: left to the validator
    ],
)
def test_anything_doubtful_is_left_to_the_validator(item: Any) -> None:
    check = numeric_records(input_schema(NAMES))
    assert check is not None
    assert not check.all_valid([{"a": 1, "b": 2, "c": 3}, item])


@pytest.mark.parametrize(
    "item",
    [{"a": -1, "b": 1, "c": 0}, {"a": 0, "b": 10, "c": 0}, {"a": 0, "b": 1, "c": float("nan")}],
)
def test_bounds_are_checked_per_column(item: dict[str, Any]) -> None:
    check = numeric_records(bounded())
    assert check is not None
    assert check.all_valid([{"a": 0, "b": 9.99, "c": 1e6}])
    assert not check.all_valid([{"a": 0, "b": 1, "c": 0}, item])


@pytest.mark.parametrize(
    "schema",
    [
        {**bounded(), "minProperties": 3},  # a keyword it does not know
        {**bounded(), "additionalProperties": True},
        {**bounded(), "required": ["a"]},
        {**bounded(), "properties": {**bounded()["properties"], "c": {"type": "integer"}}},
        {**bounded(), "type": "array"},
    ],
)
def test_other_schemas_get_no_batch_check(schema: dict[str, Any]) -> None:
    assert numeric_records(schema) is None


def test_the_contract_still_names_the_bad_field() -> None:
    contract = Contract.from_schemas(bounded(), None)
    contract.check_inputs([{"a": 0, "b": 1, "c": 2}] * 3, batched=True)
    with pytest.raises(InvalidRequest) as caught:
        contract.check_inputs([{"a": 0, "b": 1, "c": 2}, {"a": -1, "b": 1, "c": 2}], batched=True)
    assert caught.value.details == {"field": "inputs[1].a"}


def test_a_columnar_batch_is_checked_row_by_row_in_one_pass() -> None:
    import numpy as np

    from bastion.core.columns import FeatureRows

    check = numeric_records(bounded())
    assert check is not None
    matrix = np.array(
        [[0.0, 9.9, 1.0], [-1.0, 1.0, 1.0], [1.0, 10.0, 1.0], [1.0, 1.0, np.nan], [2.0**53, 1, 1]]
    )
    assert check.valid_rows(matrix).tolist() == [True, False, False, False, False]
    contract = Contract.from_schemas(bounded(), None)
    contract.check_inputs(FeatureRows(NAMES, matrix[:1]), batched=True)  # certainly valid
    with pytest.raises(InvalidRequest) as refused:  # the doubtful: the validator words it
        contract.check_inputs(FeatureRows(NAMES, matrix[:2]), batched=True)
    assert "inputs[1].a" in str(refused.value)
    # another column order is not this contract's: the rows are read as dicts, and pass
    contract.check_inputs(FeatureRows(["c", "b", "a"], matrix[:1, ::-1]), batched=True)


def test_valid_columns_agrees_with_valid_rows() -> None:
    schema = {
        "type": "object",
        "properties": {"a": {"type": "number", "minimum": 0}, "b": {"type": "number"}},
        "required": ["a", "b"],
        "additionalProperties": False,
    }
    records = numeric_records(schema)
    assert records is not None
    matrix = np.array([[1.0, 2.0], [-1.0, 2.0], [np.nan, 0.0], [0.0, np.inf], [3.0, 2.0**60]])
    by_rows = records.valid_rows(matrix)
    assert by_rows.tolist() == [True, False, False, False, False]
    assert records.valid_columns([matrix[:, 0].copy(), matrix[:, 1].copy()]).tolist() == (
        by_rows.tolist()
    )
