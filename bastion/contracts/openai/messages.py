"""Chat messages: each role's fields, and content as a string or an array of typed parts."""

from __future__ import annotations

from typing import Any

from bastion.contracts.openai.checks import (
    Check,
    array_of,
    fields,
    kind,
    nullable,
    obj,
    one_of,
    refuse,
    string,
)

_IMAGE_URL = {"url": string, "detail": one_of("auto", "low", "high")}
_AUDIO = {"data": string, "format": one_of("wav", "mp3")}
_FILE = {"file_data": string, "file_id": string, "filename": string}

# Each content part type: its own field and that field's check.
_PARTS: dict[str, tuple[str, Check]] = {
    "text": ("text", string),
    "refusal": ("refusal", string),
    "image_url": ("image_url", lambda v, p: fields(v, p, _IMAGE_URL, required=("url",))),
    "input_audio": (
        "input_audio",
        lambda v, p: fields(v, p, _AUDIO, required=("data", "format")),
    ),
    "file": ("file", lambda v, p: fields(v, p, _FILE)),
}

# Which part types each role's content may hold.
_ROLE_PARTS = {
    "system": ("text",),
    "developer": ("text",),
    "user": ("text", "image_url", "input_audio", "file"),
    "assistant": ("text", "refusal"),
    "tool": ("text",),
    "function": ("text",),
}


def _content(value: Any, param: str, role: str, *, optional: bool) -> None:
    if isinstance(value, str):
        return
    if value is None:
        if optional:
            return
        refuse(param, f"a {role} message needs content: a string or an array of content parts")
    if not isinstance(value, list):
        refuse(param, f"must be a string or an array of content parts, got {kind(value)}")
    allowed = _ROLE_PARTS[role]
    for i, part in enumerate(value):
        where = f"{param}[{i}]"
        obj(part, where)
        ptype = part.get("type")
        if not isinstance(ptype, str) or ptype not in allowed:
            choices = ", ".join(repr(a) for a in allowed)
            refuse(f"{where}.type", f"a {role} message's parts are {choices}; got {ptype!r:.40}")
        key, check = _PARTS[ptype]
        if key not in part:
            refuse(f"{where}.{key}", f"a '{ptype}' part needs its '{key}' field")
        check(part[key], f"{where}.{key}")


_FUNCTION = {"name": string, "arguments": string}
_TOOL_CALL = {
    "id": string,
    "type": one_of("function", "custom"),
    "function": lambda v, p: fields(v, p, _FUNCTION, required=("name", "arguments")),
    "custom": lambda v, p: fields(v, p, {"name": string, "input": string}),
}
_COMMON: dict[str, Check] = {"role": string, "name": string}
_ROLE_FIELDS: dict[str, dict[str, Check]] = {
    "system": _COMMON,
    "developer": _COMMON,
    "user": _COMMON,
    "tool": {**_COMMON, "tool_call_id": string},
    "function": _COMMON,
    "assistant": {
        **_COMMON,
        "refusal": nullable(string),
        "tool_calls": array_of(lambda v, p: fields(v, p, _TOOL_CALL, required=("id", "type"))),
        "function_call": nullable(lambda v, p: fields(v, p, _FUNCTION)),
        "audio": nullable(lambda v, p: fields(v, p, {"id": string}, required=("id",))),
    },
}
_REQUIRED = {"tool": ("tool_call_id",), "function": ("name",)}
ROLES = tuple(_ROLE_FIELDS)
_PLAIN_ROLES = frozenset(ROLES) - {"tool", "function"}  # these two need one more field


def message(value: Any, param: str, *, closed: bool) -> None:
    """One chat message; ``closed`` refuses fields OpenAI does not document for its role."""
    obj(value, param)
    role = value.get("role")
    if not isinstance(role, str) or role not in _ROLE_FIELDS:
        got = "no role" if role is None else f"{role!r:.40}"
        refuse(f"{param}.role", f"must be one of {', '.join(ROLES)}; got {got}")
    checks = _ROLE_FIELDS[role]
    for key, item in value.items():
        if key == "content":
            _content(item, f"{param}.content", role, optional=role in ("assistant", "function"))
            continue
        check = checks.get(key)
        if check is not None:
            check(item, f"{param}.{key}")
        elif closed:
            refuse(f"{param}.{key}", f"is not a field of a {role} message; remove it")
    if "content" not in value and role not in ("assistant", "function"):
        refuse(f"{param}.content", f"a {role} message needs content")
    for key in _REQUIRED.get(role, ()):
        if key not in value:
            refuse(f"{param}.{key}", f"a {role} message needs '{key}'")


def messages(value: Any, param: str, *, closed: bool) -> None:
    if not isinstance(value, list):
        refuse(param, f"must be an array of messages, got {kind(value)}")
    if not value:
        refuse(param, "must hold at least one message")
    for i, item in enumerate(value):
        plain = type(item) is dict and len(item) == 2 and type(item.get("content")) is str
        if plain and type(item.get("role")) is str and item["role"] in _PLAIN_ROLES:
            continue  # the common case, {"role": ..., "content": "..."}: nothing more to check
        message(item, f"{param}[{i}]", closed=closed)
