"""A valid example value for a JSON Schema: the request `bastion bench` sends by default."""

from __future__ import annotations

from typing import Any


def example_for(schema: dict[str, Any] | None) -> Any:
    """The simplest value that satisfies common schemas (types, bounds, enums, sizes)."""
    if not schema:
        return "Where is my order?"
    if "enum" in schema:
        return schema["enum"][0]
    if "const" in schema:
        return schema["const"]
    for key in ("anyOf", "oneOf"):
        if schema.get(key):
            return example_for(schema[key][0])
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind == "object":
        props = schema.get("properties", {})
        wanted = schema.get("required", list(props))
        return {name: example_for(props.get(name, {})) for name in wanted}
    if kind == "array":
        items = schema.get("items") or {}
        if isinstance(schema.get("prefixItems"), list):
            return [example_for(s) for s in schema["prefixItems"]]
        return [example_for(items) for _ in range(max(1, int(schema.get("minItems", 1))))]
    if kind in ("number", "integer"):
        low = schema.get("minimum", schema.get("exclusiveMinimum", 0))
        high = schema.get("maximum", schema.get("exclusiveMaximum", low + 2))
        value = (low + high) / 2
        return int(value) if kind == "integer" else float(value)
    if kind == "boolean":
        return True
    if kind == "null":
        return None
    text = "Where is my order?"
    return text[: schema["maxLength"]] if "maxLength" in schema else text
