"""Small helpers that turn plain config mappings into typed values, with clear errors."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

from bastion.errors import ConfigError

T = TypeVar("T")


def choice(value: Any, allowed: Sequence[T], where: str) -> T:
    """``value`` if it is one of ``allowed``, else a ConfigError naming the options."""
    for option in allowed:
        if value == option:
            return option
    raise ConfigError(f"{where}: {value!r} is not one of {', '.join(map(str, allowed))}")


def rule_list(
    config: Mapping[str, Any] | Sequence[Any] | None, where: str
) -> list[Mapping[str, Any]]:
    """The ``rules`` of a section given either as ``{"rules": [...]}`` or as the list itself."""
    if config is None:
        return []
    rules = config.get("rules", []) if isinstance(config, Mapping) else config
    if not isinstance(rules, Sequence) or isinstance(rules, str):
        raise ConfigError(f"{where}: rules must be a list")
    for i, rule in enumerate(rules):
        if not isinstance(rule, Mapping):
            raise ConfigError(f"{where}[{i}]: each rule must be a mapping")
    return list(rules)


def unknown_keys(rule: Mapping[str, Any], known: set[str], where: str) -> None:
    extra = set(rule) - known
    if extra:
        raise ConfigError(f"{where}: unknown field(s) {', '.join(sorted(extra))}")
