"""Small checks of one JSON value, each naming the field (``param``) it refused.

A check is ``check(value, param)``: it returns nothing, or raises ``InvalidRequest`` whose
message starts with ``param`` and whose ``details["field"]`` is ``param``, which the OpenAI
routes answer as a 400 with ``param`` set. They are plain functions over plain values: the
validation of a typical chat request costs a few microseconds.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping
from typing import Any, NoReturn

from bastion.errors import InvalidRequest

Check = Callable[[Any, str], None]


def refuse(param: str, what: str) -> NoReturn:
    raise InvalidRequest(f"{param}: {what}", details={"field": param})


def kind(value: Any) -> str:
    """The JSON name of a value's type, for messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


def is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def boolean(value: Any, param: str) -> None:
    if not isinstance(value, bool):
        refuse(param, f"must be true or false, got {kind(value)}")


def string(value: Any, param: str) -> None:
    if not isinstance(value, str):
        refuse(param, f"must be a string, got {kind(value)}")


def obj(value: Any, param: str) -> None:
    if not isinstance(value, dict):
        refuse(param, f"must be an object, got {kind(value)}")


def number_in(low: float, high: float) -> Check:
    def check(value: Any, param: str) -> None:
        if not is_number(value):
            refuse(param, f"must be a number between {low:g} and {high:g}, got {kind(value)}")
        if not low <= value <= high:
            refuse(param, f"must be between {low:g} and {high:g}, got {value!r}")

    return check


def integer_in(low: int, high: int | None = None) -> Check:
    bound = f"between {low} and {high}" if high is not None else f"at least {low}"

    def check(value: Any, param: str) -> None:
        if not is_int(value):
            refuse(param, f"must be an integer {bound}, got {kind(value)}")
        if value < low or (high is not None and value > high):
            refuse(param, f"must be an integer {bound}, got {value}")

    return check


def one_of(*allowed: str) -> Check:
    choices = ", ".join(repr(a) for a in allowed)

    def check(value: Any, param: str) -> None:
        if not isinstance(value, str) or value not in allowed:
            refuse(param, f"must be one of {choices}, got {value!r:.80}")

    return check


def nullable(check: Check) -> Check:
    """``check``, or JSON null (what the SDKs send for an unset optional field)."""

    def run(value: Any, param: str) -> None:
        if value is not None:
            check(value, param)

    return run


def array_of(check: Check, *, min_items: int = 0, max_items: int | None = None) -> Check:
    def run(value: Any, param: str) -> None:
        if not isinstance(value, list):
            refuse(param, f"must be an array, got {kind(value)}")
        if len(value) < min_items:
            refuse(param, f"must hold at least {min_items} item(s)")
        if max_items is not None and len(value) > max_items:
            refuse(param, f"must hold at most {max_items} items, got {len(value)}")
        for i, item in enumerate(value):
            check(item, f"{param}[{i}]")

    return run


def string_map(value: Any, param: str) -> None:
    """An object of string values (``metadata``)."""
    obj(value, param)
    for key, item in value.items():
        string(item, f"{param}.{key}")


_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def name(value: Any, param: str) -> None:
    """A function or schema name as OpenAI takes it: letters, digits, _ and -, 1 to 64."""
    string(value, param)
    if not _NAME.match(value):
        refuse(param, "must be 1 to 64 letters, digits, underscores or dashes")


def fields(
    value: Any,
    param: str,
    checks: Mapping[str, Check],
    *,
    required: Collection[str] = (),
    closed: bool = False,
) -> None:
    """Check an object's known fields; ``closed`` refuses the fields not in ``checks``."""
    obj(value, param)
    for key in required:
        if key not in value:
            refuse(f"{param}.{key}", "is required")
    for key, item in value.items():
        check = checks.get(key)
        if check is not None:
            check(item, f"{param}.{key}")
        elif closed:
            refuse(f"{param}.{key}", "is not a field here; remove it")
