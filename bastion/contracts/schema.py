"""Input and output contracts: JSON Schema per item, compiled once per model version.

jsonschema (~2 MiB resident) is imported when the first contract is compiled: a server whose
versions declare none (an LLM gateway) never loads it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import fastjsonschema

from bastion.backends.columns import ClassifierColumns
from bastion.contracts.classifier import classifier_columns_valid
from bastion.contracts.numeric import NumericRecords, numeric_records
from bastion.core.columns import FeatureRows
from bastion.errors import ConfigError, InvalidRequest, ModelOutputInvalid

if TYPE_CHECKING:
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import ValidationError


def _where(prefix: str, error: ValidationError) -> str:
    path = prefix
    for part in error.absolute_path:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path


def _best(errors: list[ValidationError]) -> ValidationError:
    # The deepest error names the actual field; ties keep the schema's own order.
    return max(errors, key=lambda e: len(e.absolute_path))


# Keywords whose meaning is the same in draft 7 and 2020-12: schemas made only of these take
# the compiled fast path (fastjsonschema, ~20x faster); anything else is checked by jsonschema.
_PORTABLE = frozenset(
    {
        "$schema",
        "title",
        "description",
        "default",
        "examples",
        "type",
        "enum",
        "const",
        "properties",
        "required",
        "additionalProperties",
        "patternProperties",
        "propertyNames",
        "minProperties",
        "maxProperties",
        "items",
        "minItems",
        "maxItems",
        "uniqueItems",
        "contains",
        "minLength",
        "maxLength",
        "pattern",
        "minimum",
        "maximum",
        "exclusiveMinimum",
        "exclusiveMaximum",
        "multipleOf",
        "allOf",
        "anyOf",
        "oneOf",
        "not",
    }
)
_SCHEMA_MAPS = ("properties", "patternProperties")
_SCHEMA_LISTS = ("allOf", "anyOf", "oneOf")
_SCHEMA_ONE = ("additionalProperties", "propertyNames", "items", "contains", "not")


def _portable(schema: Any) -> bool:
    if isinstance(schema, bool):
        return True
    if not isinstance(schema, Mapping) or not set(schema) <= _PORTABLE:
        return False
    if isinstance(schema.get("items"), list):  # tuple items changed meaning in 2020-12
        return False
    subs: list[Any] = [schema[k] for k in _SCHEMA_ONE if k in schema]
    for key in _SCHEMA_MAPS:
        subs += list((schema.get(key) or {}).values())
    for key in _SCHEMA_LISTS:
        subs += list(schema.get(key) or [])
    return all(_portable(sub) for sub in subs)


def _fast(schema: Mapping[str, Any] | None) -> Any:
    """A compiled validator for portable schemas, else None (jsonschema does the work)."""
    if schema is None or not _portable(schema):
        return None
    body = {k: v for k, v in schema.items() if k != "$schema"}
    try:
        return fastjsonschema.compile(body)
    except fastjsonschema.JsonSchemaDefinitionException:
        return None


def _compile(schema: Mapping[str, Any] | None, what: str) -> Draft202012Validator | None:
    if schema is None:
        return None
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import SchemaError

    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        raise ConfigError(f"{what} is not a valid JSON Schema: {exc.message}") from exc
    return Draft202012Validator(schema)


@dataclass(frozen=True, slots=True)
class Contract:
    """The validators for one model version's inputs and outputs (either may be absent)."""

    input_schema: Mapping[str, Any] | None
    output_schema: Mapping[str, Any] | None
    _inputs: Draft202012Validator | None
    _outputs: Draft202012Validator | None
    _fast_inputs: Any = None
    _fast_outputs: Any = None
    _numeric_inputs: NumericRecords | None = None  # a whole-batch check (contracts/numeric.py)

    @property
    def numeric_inputs(self) -> NumericRecords | None:
        """The whole-batch input check, when the input contract is an object of numbers."""
        return self._numeric_inputs

    @classmethod
    def from_schemas(
        cls, input_schema: Mapping[str, Any] | None, output_schema: Mapping[str, Any] | None
    ) -> Contract:
        return cls(
            input_schema,
            output_schema,
            _compile(input_schema, "input schema"),
            _compile(output_schema, "output schema"),
            _fast(input_schema),
            _fast(output_schema),
            numeric_records(input_schema),
        )

    def check_inputs(self, items: Sequence[Any], *, batched: bool) -> None:
        """Raise InvalidRequest naming the first bad field, e.g. ``inputs[2].mean_radius``."""
        if self._inputs is None:
            return
        numeric = self._numeric_inputs
        if numeric is not None and isinstance(items, FeatureRows) and numeric.columns_valid(items):
            return  # a columnar batch (bastion/core/columns.py): one pass over its matrix
        if numeric is not None and numeric.all_valid(items):
            return
        if self._fast_inputs is not None and _all_valid(self._fast_inputs, items):
            return
        for i, item in enumerate(items):
            errors = list(self._inputs.iter_errors(item))
            if errors:
                err = _best(errors)
                where = _where(f"inputs[{i}]" if batched else "input", err)
                raise InvalidRequest(f"{where}: {err.message}", details={"field": where})

    def check_outputs(self, outputs: Sequence[Any]) -> None:
        """Raise ModelOutputInvalid when the model broke its own output contract."""
        if self._outputs is None or self.output_schema is None:
            return
        if isinstance(outputs, ClassifierColumns):  # a classifier's answers as columns
            if classifier_columns_valid(self.output_schema, outputs):
                return  # one pass over its probabilities
            outputs = [p.output for p in outputs]
        if self._fast_outputs is not None and _all_valid(self._fast_outputs, outputs):
            return
        for i, item in enumerate(outputs):
            err = next(self._outputs.iter_errors(item), None)
            if err is not None:
                where = _where(f"outputs[{i}]", err)
                raise ModelOutputInvalid(
                    f"the model's output broke its contract at {where}: {err.message}; "
                    "this is a model bug, not a problem with your request"
                )


def _all_valid(validate: Any, items: Sequence[Any]) -> bool:
    """The fast path; on any failure the caller re-checks with jsonschema to word the error."""
    try:
        for item in items:
            validate(item)
    except fastjsonschema.JsonSchemaException:
        return False
    return True
