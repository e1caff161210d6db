"""The structured request fields: tools, tool_choice, response_format, stop, logit_bias…"""

from __future__ import annotations

from typing import Any

from bastion.contracts.openai.checks import (
    Check,
    array_of,
    boolean,
    fields,
    is_number,
    kind,
    name,
    nullable,
    obj,
    one_of,
    refuse,
    string,
)

_FUNCTION_DEF: dict[str, Check] = {
    "name": name,
    "description": string,
    "parameters": obj,
    "strict": nullable(boolean),
}
_CUSTOM_DEF: dict[str, Check] = {"name": name, "description": string, "format": obj}


def function_def(value: Any, param: str) -> None:
    fields(value, param, _FUNCTION_DEF, required=("name",))


def _custom_def(value: Any, param: str) -> None:
    fields(value, param, _CUSTOM_DEF, required=("name",))


_FUNCTION_TOOL: dict[str, Check] = {"type": string, "function": function_def}
_CUSTOM_TOOL: dict[str, Check] = {"type": string, "custom": _custom_def}


def tool(value: Any, param: str) -> None:
    obj(value, param)
    ttype = value.get("type")
    if ttype == "function":
        fields(value, param, _FUNCTION_TOOL, required=("function",))
    elif ttype == "custom":
        fields(value, param, _CUSTOM_TOOL, required=("custom",))
    else:
        refuse(f"{param}.type", f"must be 'function' or 'custom', got {ttype!r:.40}")


tools = array_of(tool, max_items=128)
functions = array_of(function_def, min_items=1, max_items=128)

_NAMED = {"name": string}


def tool_choice(value: Any, param: str) -> None:
    if isinstance(value, str):
        one_of("none", "auto", "required")(value, param)
        return
    obj(value, param)
    ctype = value.get("type")
    named = lambda v, p: fields(v, p, _NAMED, required=("name",))  # noqa: E731
    if ctype == "function":
        fields(value, param, {"type": string, "function": named}, required=("function",))
    elif ctype == "custom":
        fields(value, param, {"type": string, "custom": named}, required=("custom",))
    elif ctype == "allowed_tools":
        allowed = {"mode": one_of("auto", "required"), "tools": array_of(obj)}
        inner = lambda v, p: fields(v, p, allowed, required=("mode", "tools"))  # noqa: E731
        fields(value, param, {"type": string, "allowed_tools": inner}, required=("allowed_tools",))
    else:
        refuse(
            f"{param}.type",
            f"must be 'function', 'custom' or 'allowed_tools', got {ctype!r:.40}",
        )


def function_call(value: Any, param: str) -> None:
    if isinstance(value, str):
        one_of("none", "auto")(value, param)
    else:
        fields(value, param, _NAMED, required=("name",))


_JSON_SCHEMA: dict[str, Check] = {
    "name": name,
    "description": string,
    "schema": obj,
    "strict": nullable(boolean),
}


def response_format(value: Any, param: str) -> None:
    obj(value, param)
    ftype = value.get("type")
    if ftype in ("text", "json_object"):
        fields(value, param, {"type": string})
    elif ftype == "json_schema":
        schema = lambda v, p: fields(v, p, _JSON_SCHEMA, required=("name",))  # noqa: E731
        fields(value, param, {"type": string, "json_schema": schema}, required=("json_schema",))
    else:
        refuse(
            f"{param}.type",
            f"must be 'text', 'json_object' or 'json_schema', got {ftype!r:.40}",
        )


def stop(value: Any, param: str) -> None:
    if isinstance(value, str):
        return
    if not isinstance(value, list):
        refuse(param, f"must be a string or an array of up to 4 strings, got {kind(value)}")
    array_of(string, max_items=4)(value, param)


def logit_bias(value: Any, param: str) -> None:
    obj(value, param)
    for token, bias in value.items():
        if not token.isdigit():
            refuse(f"{param}.{token:.20}", "keys must be token ids (digits)")
        if not is_number(bias) or not -100 <= bias <= 100:
            refuse(f"{param}.{token}", f"must be a number between -100 and 100, got {bias!r:.20}")


stream_options: Check = lambda v, p: fields(  # noqa: E731
    v, p, {"include_usage": boolean, "include_obfuscation": boolean}
)


def prediction(value: Any, param: str) -> None:
    obj(value, param)
    one_of("content")(value.get("type"), f"{param}.type")
    content = value.get("content")
    if not isinstance(content, str):
        array_of(lambda v, p: fields(v, p, {"type": one_of("text"), "text": string}))(
            content, f"{param}.content"
        )
