"""Templated bodies: ``{{ output.label }}`` placeholders in any string of a JSON value.

A string that is exactly one placeholder takes the value itself (a number stays a number, an
object stays an object); placeholders inside longer strings are replaced by their text (JSON
for objects and lists, empty for null). Paths are names with ``.field`` and ``[index]`` only:
nothing is evaluated. Templates are compiled once at start; rendering is a walk.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

import orjson

from bastion.actions.condition import lookup
from bastion.errors import ConfigError

Context = Mapping[str, Any]
Render = Callable[[Context], Any]

ROOTS = frozenset(
    {"input", "output", "confidence", "decision_id", "request_id", "deployment", "version"}
)
_PLACEHOLDER = re.compile(r"\{\{\s*([^{}]*?)\s*\}\}")
_PART = re.compile(r"\.?([A-Za-z_][A-Za-z0-9_-]*)|\[(-?\d+)\]|\[['\"]([^'\"]+)['\"]\]")


def compile_template(value: Any, where: str) -> Render:
    """Compile a JSON value holding placeholders; raise ConfigError for a bad path."""
    if isinstance(value, str):
        return _string(value, where)
    if isinstance(value, Mapping):
        parts = [(str(k), compile_template(v, f"{where}.{k}")) for k, v in value.items()]
        return lambda c: {k: r(c) for k, r in parts}
    if isinstance(value, list | tuple):
        items = [compile_template(v, f"{where}[{i}]") for i, v in enumerate(value)]
        return lambda c: [r(c) for r in items]
    return lambda c: value


def parse_path(text: str, where: str) -> tuple[str, tuple[str | int, ...]]:
    """``output.scores[0]`` → ("output", ("scores", 0)); ConfigError when malformed."""
    keys: list[str | int] = []
    pos = 0
    while pos < len(text):
        m = _PART.match(text, pos)
        if m is None or (pos == 0 and m.group(1) is None) or (pos > 0 and m.start() == m.end()):
            raise ConfigError(f"{where}: placeholder '{{{{ {text} }}}}' is not a field path")
        name, index, quoted = m.groups()
        keys.append(int(index) if index is not None else (name or quoted))
        pos = m.end()
    if not keys or keys[0] not in ROOTS:
        raise ConfigError(
            f"{where}: placeholder '{{{{ {text} }}}}' must start with one of "
            f"{', '.join(sorted(ROOTS))}"
        )
    root = keys[0]
    assert isinstance(root, str)
    return root, tuple(keys[1:])


def _string(text: str, where: str) -> Render:
    found = list(_PLACEHOLDER.finditer(text))
    if not found:
        return lambda c: text
    if len(found) == 1 and found[0].span() == (0, len(text)):
        root, path = parse_path(found[0].group(1), where)
        return lambda c: lookup(c.get(root), path)
    pieces: list[str | tuple[str, tuple[str | int, ...]]] = []
    last = 0
    for m in found:
        pieces.append(text[last : m.start()])
        pieces.append(parse_path(m.group(1), where))
        last = m.end()
    pieces.append(text[last:])

    def render(ctx: Context) -> str:
        out = []
        for piece in pieces:
            if isinstance(piece, str):
                out.append(piece)
            else:
                out.append(_text(lookup(ctx.get(piece[0]), piece[1])))
        return "".join(out)

    return render


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return orjson.dumps(value).decode()
