"""Templates: the registered spec checked once (pydantic, at the edge), variables validated
against their schema (missing or extra: a 400 naming the variable), messages rendered.

Placeholders are ``{{name}}``; rendering is one pass, so a value that itself contains
``{{other}}`` is inserted as text and never expanded.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from bastion.errors import InvalidRequest
from bastion.prompts.entities import Message, PromptTemplate, RetrievalStep

PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]{0,63})\s*\}\}")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid")


class MessageSpec(_Spec):
    role: Literal["system", "user", "assistant", "developer"]
    content: str = Field(min_length=1, max_length=100_000)


class RetrievalSpec(_Spec):
    collection: str = Field(min_length=1, max_length=100)
    query: str = Field(min_length=1, max_length=10_000, description="a template, e.g. {{q}}")
    into: str = Field(description="the variable the retrieved chunks fill")
    k: int = Field(4, ge=1, le=50)
    filters: dict[str, Any] = Field(default_factory=dict)


class TemplateSpec(_Spec):
    """A ``prompt.yaml``: ``model`` is the model group the prompt runs on."""

    model: str = Field(min_length=1, max_length=100)
    messages: list[MessageSpec] = Field(min_length=1, max_length=100)
    variables: dict[str, Any] = Field(default_factory=lambda: {"type": "object"})
    parameters: dict[str, Any] = Field(default_factory=dict)
    retrieval: RetrievalSpec | None = None
    description: str = Field("", max_length=2000)

    @field_validator("parameters")
    @classmethod
    def _no_reserved(cls, value: dict[str, Any]) -> dict[str, Any]:
        reserved = sorted(set(value) & {"model", "messages", "stream", "prompt"})
        if reserved:
            raise ValueError(f"{', '.join(reserved)} cannot be a parameter (the prompt sets it)")
        return value


def _schema(variables: Mapping[str, Any]) -> dict[str, Any]:
    schema = dict(variables)
    if schema.get("type", "object") != "object":
        raise InvalidRequest(
            "variables: the variables' schema must be a JSON Schema of type 'object' whose "
            "properties are the variables",
            details={"field": "variables"},
        )
    from jsonschema import SchemaError  # jsonschema (~2 MiB) loads with the first template
    from jsonschema.validators import validator_for

    try:
        validator_for(schema).check_schema(schema)
    except SchemaError as exc:
        raise InvalidRequest(
            f"variables: not a valid JSON Schema: {exc.message}", details={"field": "variables"}
        ) from exc
    for name in schema.get("properties", {}):
        if not _NAME.match(name):
            raise InvalidRequest(
                f"variables: {name!r} is not a valid variable name (letters, digits and '_', "
                "not starting with a digit)",
                details={"field": "variables"},
            )
    return schema


def _used(spec: TemplateSpec) -> set[str]:
    texts = [m.content for m in spec.messages]
    if spec.retrieval is not None:
        texts.append(spec.retrieval.query)
    return {m.group(1) for text in texts for m in PLACEHOLDER.finditer(text)}


def parse_template(raw: Mapping[str, Any]) -> PromptTemplate:
    """The template a spec describes; InvalidRequest naming the field that is wrong."""
    try:
        spec = TemplateSpec.model_validate(dict(raw))
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "template"
        raise InvalidRequest(
            f"template: {where}: {first['msg']}", details={"field": f"template.{where}"}
        ) from exc
    schema = _schema(spec.variables)
    declared = set(schema.get("properties", {}))
    retrieval = None
    if spec.retrieval is not None:
        r = spec.retrieval
        if r.into not in declared:
            schema.setdefault("properties", {})[r.into] = {"type": "string"}
            declared.add(r.into)
        if r.into in {m.group(1) for m in PLACEHOLDER.finditer(r.query)}:
            raise InvalidRequest(
                f"template: retrieval.query cannot use '{r.into}', the variable it fills",
                details={"field": "template.retrieval.query"},
            )
        retrieval = RetrievalStep(r.collection, r.query, r.into, r.k, dict(r.filters))
    undeclared = sorted(_used(spec) - declared)
    if undeclared:
        raise InvalidRequest(
            f"template: the messages use {', '.join(undeclared)} but variables.properties "
            "does not declare it; declare every variable the template uses",
            details={"field": "template.variables", "variables": undeclared},
        )
    return PromptTemplate(
        model=spec.model,
        messages=tuple(Message(m.role, m.content) for m in spec.messages),
        variables=schema,
        parameters=dict(spec.parameters),
        retrieval=retrieval,
        validator=_validator(schema),
    )


def _validator(schema: Mapping[str, Any]) -> Any:
    from jsonschema.validators import validator_for

    return validator_for(schema)(schema)


def canonical(raw: Mapping[str, Any]) -> tuple[dict[str, Any], str]:
    """The spec as stored (validated, defaults filled) and its sha256."""
    spec = TemplateSpec.model_validate(dict(raw)).model_dump(mode="json", exclude_none=True)
    blob = json.dumps(spec, sort_keys=True, separators=(",", ":")).encode()
    return spec, hashlib.sha256(blob).hexdigest()


def check_variables(template: PromptTemplate, values: Any, ref: str) -> dict[str, Any]:
    """``values`` if they are exactly the template's variables and valid against its schema;
    else InvalidRequest naming the missing, extra or invalid variable."""
    if not isinstance(values, dict):
        raise InvalidRequest(
            "variables: an object of the prompt's variables is required",
            details={"field": "variables"},
        )
    declared = template.declared
    listed = ", ".join(sorted(declared)) or "none"
    extra = sorted(set(values) - declared)
    if extra:
        raise InvalidRequest(
            f"variables: '{extra[0]}' is not a variable of prompt {ref} (its variables: {listed})",
            details={"field": f"variables.{extra[0]}", "extra": extra},
        )
    missing = sorted(template.required - set(values))
    if missing:
        raise InvalidRequest(
            f"variables: '{missing[0]}' is required by prompt {ref} (its variables: {listed})",
            details={"field": f"variables.{missing[0]}", "missing": missing},
        )
    validator = template.validator or _validator(template.variables)
    for error in sorted(validator.iter_errors(values), key=lambda e: list(e.path)):
        path = ".".join(str(p) for p in error.absolute_path)
        raise InvalidRequest(
            f"variables: {path or 'variables'}: {error.message}",
            details={"field": f"variables.{path}" if path else "variables"},
        )
    return values


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def fill(text: str, values: Mapping[str, Any]) -> str:
    """``text`` with each ``{{name}}`` replaced by its value (absent optional ones: empty)."""
    return PLACEHOLDER.sub(lambda m: _text(values.get(m.group(1), "")), text)


def render(template: PromptTemplate, values: Mapping[str, Any]) -> list[dict[str, str]]:
    """The chat messages of ``template`` with ``values`` filled in."""
    return [{"role": m.role, "content": fill(m.content, values)} for m in template.messages]


def untrusted(values: Mapping[str, Any]) -> tuple[str, ...]:
    """The client's variable values as texts, for the injection screen."""
    return tuple(t for t in (_text(v) for v in values.values()) if t.strip())
