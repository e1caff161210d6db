import pytest

from bastion.contracts import Contract
from bastion.errors import ConfigError, InvalidRequest, ModelOutputInvalid

SCHEMA = {
    "type": "object",
    "properties": {"age": {"type": "number", "minimum": 0}, "name": {"type": "string"}},
    "required": ["age"],
    "additionalProperties": False,
}


def test_valid_inputs_pass() -> None:
    Contract.from_schemas(SCHEMA, None).check_inputs(
        [{"age": 3}, {"age": 4, "name": "x"}], batched=True
    )


def test_error_names_item_and_field() -> None:
    contract = Contract.from_schemas(SCHEMA, None)
    with pytest.raises(InvalidRequest) as info:
        contract.check_inputs([{"age": 1}, {"age": "old"}], batched=True)
    assert info.value.details["field"] == "inputs[1].age"
    assert "'old' is not of type 'number'" in info.value.message


def test_single_input_path_and_missing_field() -> None:
    contract = Contract.from_schemas(SCHEMA, None)
    with pytest.raises(InvalidRequest) as info:
        contract.check_inputs([{"name": "x"}], batched=False)
    assert info.value.message.startswith("input: ")
    assert "'age' is a required property" in info.value.message


def test_output_contract_violation_is_a_model_error() -> None:
    contract = Contract.from_schemas(None, {"type": "object", "required": ["label"]})
    with pytest.raises(ModelOutputInvalid):
        contract.check_outputs([{"label": "a"}, {}])


def test_invalid_schema_is_a_config_error() -> None:
    with pytest.raises(ConfigError):
        Contract.from_schemas({"type": "nonsense"}, None)


def test_no_schema_accepts_anything() -> None:
    Contract.from_schemas(None, None).check_inputs([object()], batched=False)


def test_portable_schemas_take_the_compiled_path_with_the_same_verdicts() -> None:
    contract = Contract.from_schemas(SCHEMA, SCHEMA)
    assert contract._fast_inputs is not None and contract._fast_outputs is not None
    contract.check_inputs([{"age": 1}], batched=False)
    with pytest.raises(InvalidRequest, match="-1 is less than the minimum of 0"):
        contract.check_inputs([{"age": -1}], batched=False)


def test_2020_12_only_keywords_fall_back_to_jsonschema() -> None:
    tuple_schema = {"type": "array", "prefixItems": [{"type": "string"}], "items": False}
    contract = Contract.from_schemas(tuple_schema, None)
    assert contract._fast_inputs is None
    contract.check_inputs([["a"]], batched=False)
    with pytest.raises(InvalidRequest):
        contract.check_inputs([["a", "b"]], batched=False)
    with pytest.raises(InvalidRequest):
        contract.check_inputs([[1]], batched=False)
