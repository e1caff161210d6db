"""The request bodies of the raw-``Request`` routes, as ``/openapi.json`` documents them.

The request path's POST routes read their bodies themselves (``api/hot_routes.py``), so
FastAPI cannot infer their schemas; these describe them for clients and for the fuzzing of
the whole spec (tests/e2e/test_openapi_fuzz.py). The checks themselves live in
``contracts/openai`` and ``api/oip_tensors.py``: the schemas here are documentation.
"""

from __future__ import annotations

from typing import Any

from bastion.api.oip_tensors import DATATYPES


def _body(schema: dict[str, Any]) -> dict[str, Any]:
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}


_TEXT_OR_PARTS = {
    "anyOf": [
        {"type": "string"},
        {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["type"],
                "properties": {"type": {"type": "string"}, "text": {"type": "string"}},
            },
        },
        {"type": "null"},
    ]
}
_SAMPLING = {
    "model": {"type": "string", "minLength": 1},
    "temperature": {"type": "number", "minimum": 0, "maximum": 2},
    "top_p": {"type": "number", "minimum": 0, "maximum": 1},
    "n": {"type": "integer", "minimum": 1, "maximum": 128},
    "max_tokens": {"type": "integer", "minimum": 1},
    "presence_penalty": {"type": "number", "minimum": -2, "maximum": 2},
    "frequency_penalty": {"type": "number", "minimum": -2, "maximum": 2},
    "stop": {"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]},
    "seed": {"type": "integer"},
    "user": {"type": "string"},
    "stream": {"type": "boolean"},
}
_TEXTS = {
    "anyOf": [
        {"type": "string"},
        {"type": "array", "items": {"type": "string"}, "minItems": 1},
        {"type": "array", "items": {"type": "integer", "minimum": 0}, "minItems": 1},
    ]
}

CHAT = _body(
    {
        "type": "object",
        "required": ["model", "messages"],
        "properties": {
            **_SAMPLING,
            "messages": {
                "type": "array",
                "minItems": 1,
                "items": {
                    "type": "object",
                    "required": ["role"],
                    "properties": {
                        "role": {
                            "enum": ["system", "developer", "user", "assistant", "tool"],
                        },
                        "content": _TEXT_OR_PARTS,
                        "name": {"type": "string"},
                        "tool_call_id": {"type": "string"},
                    },
                },
            },
            "max_completion_tokens": {"type": "integer", "minimum": 1},
            "logprobs": {"type": "boolean"},
            "top_logprobs": {"type": "integer", "minimum": 0, "maximum": 20},
            "tools": {"type": "array", "items": {"type": "object"}},
            "tool_choice": {"anyOf": [{"enum": ["none", "auto", "required"]}, {"type": "object"}]},
            "response_format": {
                "type": "object",
                "properties": {"type": {"enum": ["text", "json_object", "json_schema"]}},
            },
        },
    }
)
COMPLETIONS = _body(
    {
        "type": "object",
        "required": ["model", "prompt"],
        "properties": {**_SAMPLING, "prompt": _TEXTS, "logprobs": {"type": "integer"}},
    }
)
EMBEDDINGS = _body(
    {
        "type": "object",
        "required": ["model", "input"],
        "properties": {
            "model": {"type": "string", "minLength": 1},
            "input": _TEXTS,
            "encoding_format": {"enum": ["float", "base64"]},
            "dimensions": {"type": "integer", "minimum": 1},
            "user": {"type": "string"},
        },
    }
)
OIP_INFER = _body(
    {
        "type": "object",
        "required": ["inputs"],
        "properties": {
            "id": {"type": "string"},
            "inputs": {
                "type": "array",
                "minItems": 1,
                "items": {
                    "type": "object",
                    "required": ["name", "shape", "datatype"],
                    "properties": {
                        "name": {"type": "string"},
                        "shape": {"type": "array", "items": {"type": "integer", "minimum": 0}},
                        "datatype": {"enum": list(DATATYPES)},
                        "data": {"type": "array"},
                        "parameters": {"type": "object"},
                    },
                },
            },
            "outputs": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["name"],
                    "properties": {
                        "name": {"type": "string"},
                        "parameters": {
                            "type": "object",
                            "properties": {"binary_data": {"type": "boolean"}},
                        },
                    },
                },
            },
            "parameters": {
                "type": "object",
                "properties": {"binary_data_output": {"type": "boolean"}},
            },
        },
    }
)
