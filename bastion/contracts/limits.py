"""Structural bounds on client JSON: nesting depth, string and list lengths."""

from __future__ import annotations

from typing import Any

from bastion.errors import InvalidRequest
from bastion.settings import LimitsSettings


def check_limits(value: Any, limits: LimitsSettings, path: str = "$") -> None:
    """Raise InvalidRequest naming the first place where ``value`` exceeds ``limits``.

    Iterative (no recursion limit to hit) and allocation-light: it runs on every request.
    """
    stack: list[tuple[Any, str, int]] = [(value, path, 1)]
    max_depth, max_str, max_list = (
        limits.max_depth,
        limits.max_string_length,
        limits.max_list_length,
    )
    while stack:
        item, where, depth = stack.pop()
        if isinstance(item, str):
            if len(item) > max_str:
                raise InvalidRequest(
                    f"{where}: string of {len(item)} characters exceeds the limit of {max_str}",
                    details={"field": where},
                )
        elif isinstance(item, dict | list):
            if depth > max_depth:
                raise InvalidRequest(
                    f"{where}: nesting deeper than {max_depth} levels", details={"field": where}
                )
            if isinstance(item, list):
                if len(item) > max_list:
                    raise InvalidRequest(
                        f"{where}: list of {len(item)} items exceeds the limit of {max_list}",
                        details={"field": where},
                    )
                stack.extend((v, f"{where}[{i}]", depth + 1) for i, v in enumerate(item))
            else:
                stack.extend((v, f"{where}.{k}", depth + 1) for k, v in item.items())
