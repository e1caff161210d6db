"""Conditions over a decision: a small, safe expression language compiled once at start.

``output.label == "refund_request" and confidence >= 0.8`` — names (``input``, ``output``,
``confidence``, ``deployment``, ``version``) with ``.field`` and ``[index]`` access,
literals (strings, numbers, ``true``/``false``/``null``, lists), comparisons
(``== != < <= > >= in not in``), ``and``/``or``/``not`` and parentheses. The text is parsed
with Python's own parser into a tree whose every node is checked against this whitelist and
turned into closures; nothing is ever passed to ``eval``. A missing field is ``null``, and a
comparison that cannot be made (``null >= 0.8``) is false, never an error.
"""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable, Mapping
from typing import Any

from bastion.errors import ConfigError

Context = Mapping[str, Any]
Getter = Callable[[Context], Any]
Condition = Callable[[Context], bool]

NAMES = frozenset({"input", "output", "confidence", "deployment", "version", "decision_id"})
_LITERALS = {"true": True, "false": False, "null": None, "True": True, "False": False}
_COMPARE: dict[type[ast.cmpop], Callable[[Any, Any], bool]] = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.In: lambda a, b: a in b,
    ast.NotIn: lambda a, b: a not in b,
}
_MAX_LENGTH = 2000


def compile_condition(text: str) -> Condition:
    """Compile ``text``; raise ConfigError saying what is not allowed, and where."""
    if len(text) > _MAX_LENGTH:
        raise ConfigError(f"condition is longer than {_MAX_LENGTH} characters")
    try:
        tree = ast.parse(text.strip() or "true", mode="eval")
    except SyntaxError as exc:
        raise ConfigError(f"condition {text!r} is not valid: {exc.msg}") from exc
    getter = _node(tree.body, text)

    def condition(ctx: Context) -> bool:
        try:
            return bool(getter(ctx))
        except (TypeError, ValueError):  # e.g. None >= 0.8: the condition does not hold
            return False

    return condition


def _node(node: ast.expr, text: str) -> Getter:
    if isinstance(node, ast.BoolOp):
        parts = [_node(v, text) for v in node.values]
        if isinstance(node.op, ast.And):
            return lambda c: all(p(c) for p in parts)
        return lambda c: any(p(c) for p in parts)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        inner = _node(node.operand, text)
        return lambda c: not inner(c)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        value = _constant(node.operand, text)
        if not isinstance(value, int | float):
            raise _refuse(node, text)
        return lambda c: -value
    if isinstance(node, ast.Compare):
        return _compare(node, text)
    if isinstance(node, ast.Constant | ast.List | ast.Tuple):
        value = _constant(node, text)
        return lambda c: value
    if isinstance(node, ast.Name) and node.id in _LITERALS:
        literal = _LITERALS[node.id]
        return lambda c: literal
    return _path(node, text)


def _compare(node: ast.Compare, text: str) -> Getter:
    left = _node(node.left, text)
    rest = []
    for op, comparator in zip(node.ops, node.comparators, strict=True):
        fn = _COMPARE.get(type(op))
        if fn is None:
            raise _refuse(node, text)
        rest.append((fn, _node(comparator, text)))

    def compare(ctx: Context) -> bool:
        a = left(ctx)
        for fn, getter in rest:
            b = getter(ctx)
            if not fn(a, b):
                return False
            a = b
        return True

    return compare


def _constant(node: ast.expr, text: str) -> Any:
    if isinstance(node, ast.Constant) and isinstance(node.value, str | int | float | bool):
        return node.value
    if isinstance(node, ast.Constant) and node.value is None:
        return None
    if isinstance(node, ast.Name) and node.id in _LITERALS:
        return _LITERALS[node.id]
    if isinstance(node, ast.List | ast.Tuple):
        return tuple(_constant(e, text) for e in node.elts)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        value = _constant(node.operand, text)
        if isinstance(value, int | float):
            return -value
    raise _refuse(node, text)


def _path(node: ast.expr, text: str) -> Getter:
    """``name.field[0].other`` → a getter that answers None wherever the path breaks."""
    keys: list[str | int] = []
    while not isinstance(node, ast.Name):
        if isinstance(node, ast.Attribute) and not node.attr.startswith("_"):
            keys.append(node.attr)
            node = node.value
        elif isinstance(node, ast.Subscript):
            key = _constant(node.slice, text)
            if not isinstance(key, str | int) or isinstance(key, bool):
                raise _refuse(node, text)
            keys.append(key)
            node = node.value
        else:
            raise _refuse(node, text)
    if node.id not in NAMES:
        raise ConfigError(
            f"condition {text!r}: unknown name '{node.id}'; use {', '.join(sorted(NAMES))}"
        )
    root, path = node.id, tuple(reversed(keys))
    return lambda c: lookup(c.get(root), path)


def lookup(value: Any, path: tuple[str | int, ...]) -> Any:
    for key in path:
        if isinstance(value, Mapping):
            value = value.get(key)
        elif isinstance(value, list | tuple) and isinstance(key, int) and -len(value) <= key:
            value = value[key] if key < len(value) else None
        else:
            return None
    return value


def _refuse(node: ast.AST, text: str) -> ConfigError:
    what = type(node).__name__
    return ConfigError(
        f"condition {text!r}: '{ast.unparse(node)}' ({what}) is not allowed; conditions hold "
        "names with .field/[index], literals, comparisons, and/or/not"
    )
