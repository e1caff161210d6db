"""Checking a reviewer's correction against the output contract of the version that answered."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bastion.errors import InvalidRequest


def check_correction(
    schema: Mapping[str, Any] | None, value: Any, *, deployment: str, version: int
) -> None:
    """Raise InvalidRequest (422) naming the first bad field, e.g. ``output.label``."""
    if schema is None:
        return
    from jsonschema import Draft202012Validator  # loaded with the first contract it checks

    errors = list(Draft202012Validator(schema).iter_errors(value))
    if not errors:
        return
    err = max(errors, key=lambda e: len(e.absolute_path))  # the deepest names the real field
    where = "output"
    for part in err.absolute_path:
        where += f"[{part}]" if isinstance(part, int) else f".{part}"
    raise InvalidRequest(
        f"{where}: {err.message}; a correction must satisfy the output contract of "
        f"{deployment} v{version}",
        details={"field": where},
    )
