"""The `bastion` command group that imports a sub-command's module only when it is used.

Typer builds every command's parameters from its function signature when the group is made,
so a tree of a hundred commands costs most of a second before anything runs. Here each named
group (``models``, ``keys`` …) is a module path: ``bastion models list`` imports and builds
``bastion.cli.models`` alone, and ``bastion --help`` imports none of them, listing each with
the one-line help kept beside its path (a test checks that it matches the module's own).
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, ClassVar, NamedTuple

import typer
from typer.core import TyperGroup

try:  # plain.py reaches into Typer's internals (typer._coercion, 0.29): without them, Typer
    from bastion.cli.plain import plain  # converts every value itself, only more slowly
except ImportError:  # pragma: no cover - another Typer

    def plain(command: Any) -> None:
        return None


class Lazy(NamedTuple):
    """Where a sub-command lives (``module:attribute``, a Typer app) and its one-line help."""

    target: str
    help: str


class LazyGroup(TyperGroup):
    """A TyperGroup whose ``LAZY`` sub-commands are built on first use."""

    LAZY: ClassVar[Mapping[str, Lazy]] = MappingProxyType({})  # set by a subclass

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._listing = False

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        plain(self)  # its options (Typer adds the completion ones after building the group)
        rest: list[str] = super().parse_args(ctx, args)
        return rest

    def list_commands(self, ctx: Any) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.LAZY})

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        found = super().get_command(ctx, cmd_name)
        if found is not None or cmd_name not in self.LAZY:
            return found
        lazy = self.LAZY[cmd_name]
        if self._listing:  # only its name and help are shown: do not import it
            return TyperGroup(name=cmd_name, help=lazy.help, rich_markup_mode=None)
        command = load(cmd_name, lazy)
        plain(command)
        return command

    def format_help(self, ctx: Any, formatter: Any) -> None:
        self._listing = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self._listing = False


def target_of(lazy: Lazy) -> Any:
    """What ``lazy.target`` names: a Typer app (a group) or a command function."""
    module_name, _, attribute = lazy.target.partition(":")
    return getattr(importlib.import_module(module_name), attribute)


def help_of(target: Any) -> str:
    """A group's help, or a command function's first docstring paragraph on one line."""
    if isinstance(target, typer.Typer):
        return str(target.info.help)
    doc = inspect.getdoc(target) or ""
    return " ".join(doc.split("\n\n")[0].split())


def load(name: str, lazy: Lazy) -> Any:
    """The Click command of ``lazy.target``, named ``name``: the group of a Typer app (a
    group even with one command: ``shadow report``), or the command of a function."""
    target = target_of(lazy)
    command: Any
    if isinstance(target, typer.Typer):
        command = typer.main.get_group(target)
    else:
        single = typer.Typer(rich_markup_mode=None)
        single.command(name)(target)
        command = typer.main.get_command(single)
    command.name = name
    return command
