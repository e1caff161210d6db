"""Plain values converted without pydantic: part of what keeps a read-only command under 0.3 s.

Typer 0.29 converts every parameter's value through a pydantic ``TypeAdapter`` built on first
use, even an unset ``--json`` flag, so any command imports pydantic (~30–60 ms) and builds a
few adapters. Most of Bastion's parameters are a plain ``str``, ``int``, ``float``, ``bool`` or
``Path``: ``plain(command)`` gives those a converter of their own. Whatever it does not
convert at once (a value in another form, a bad value) goes to Typer's own converter, so
accepted values and error messages stay Typer's. Parameters with parsers, path checks, choices,
lists or clamped bounds are left to Typer entirely (plain bounds are checked here).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from typer._coercion import RuntimeParam, build_runtime_param
from typer.core import _TyperParameter

_INT = re.compile(r"[+-]?\d+")
_FLOAT = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
_TRUE = frozenset({"1", "true", "t", "yes", "y", "on"})
_FALSE = frozenset({"0", "false", "f", "no", "n", "off", ""})
_PLAIN = (str, int, float, bool, Path)
# what Click's context holds unless a command sets context_settings (Bastion's do not)
_DEFAULT_HELP = SimpleNamespace(help_option_names=["--help"])


@dataclass(frozen=True)
class PlainParam(RuntimeParam):
    """Converts the common forms of a plain value; hands anything else to Typer's converter."""

    def _coerce_value(self, value: Any, param: _TyperParameter, ctx: Any) -> Any:
        try:
            converted = _convert(self.annotation, value)
            info = self.parameter_info
            if (info.min is not None and converted < info.min) or (
                info.max is not None and converted > info.max
            ):
                raise ValueError("out of bounds")  # Typer says so, in its words
            return converted
        except (TypeError, ValueError):
            typer_own = build_runtime_param(param.type_descriptor)
            return typer_own._coerce_value(value, param=param, ctx=ctx)


def plain(command: Any) -> None:
    """Give the plain parameters of ``command`` and of its sub-commands the light converter."""
    params = list(getattr(command, "params", ()))
    if getattr(command, "add_help_option", False) and getattr(command, "_help_option", 0) is None:
        params.append(command.get_help_option(_DEFAULT_HELP))  # built now (it is cached)
    for param in params:
        if isinstance(param, _TyperParameter) and param._runtime_param is None:
            descriptor = param.type_descriptor
            if _eligible(descriptor.annotation, descriptor.parameter_info):
                info, annotation = descriptor.parameter_info, descriptor.annotation
                param._runtime_param = PlainParam(parameter_info=info, annotation=annotation)
    for sub in getattr(command, "commands", {}).values():
        plain(sub)


def _eligible(annotation: Any, info: Any) -> bool:
    if annotation not in _PLAIN or info.parser is not None:
        return False
    if info.clamp:
        return False
    return not (  # path checks: Typer's (it checks these on str and Path alike)
        info.exists
        or info.writable
        or info.resolve_path
        or info.allow_dash
        or info.path_type is not None
        or not info.file_okay
        or not info.dir_okay
    )


def _convert(annotation: Any, value: Any) -> Any:
    """The value as ``annotation``, from its usual forms; TypeError/ValueError otherwise."""
    if annotation is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
            return value.strip().lower() in _TRUE
    elif annotation is str:
        if isinstance(value, str):
            return value
    elif annotation is Path:
        if isinstance(value, Path):
            return value
        if isinstance(value, str):
            return Path(value)
    elif annotation is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, str) and _INT.fullmatch(value):
            return int(value)
    elif annotation is float:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, str) and _FLOAT.fullmatch(value):
            return float(value)
    raise TypeError(f"not a plain {annotation!r}: {value!r}")
