"""A ``python`` model's entry point checked when it is registered, never called.

A module entry point (``pkg.module:attr``) is imported on the server and its attribute looked
up; an uploaded source file is parsed (not executed) for a top-level ``attr``. Either must
name a function or a class (whose ``predict`` is checked when it can be seen), so that no
version is registered that this server could never load.
"""

from __future__ import annotations

import ast
import importlib
import inspect
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from bastion.errors import InvalidRequest

_FIELD = {"field": "params.entry_point"}
_WHAT = "a function f(inputs) or a class with a predict(inputs) method"


def _refuse(message: str) -> InvalidRequest:
    return InvalidRequest(f"params.entry_point: {message}", details=_FIELD)


def _entry(params: Mapping[str, Any] | None) -> str:
    entry = (params or {}).get("entry_point")
    if not isinstance(entry, str) or not entry:
        raise _refuse(
            "the python flavor needs an entry point: 'package.module:attr' "
            "(bastion models register NAME --entry-point pkg.module:fn), or 'attr' with a .py file"
        )
    return entry


def check_module_entry_point(params: Mapping[str, Any] | None) -> None:
    """InvalidRequest unless ``params.entry_point`` imports here and names something callable.

    Importing runs the module's top level (as loading it would); the function is not called.
    """
    entry = _entry(params)
    module_name, sep, attr = entry.partition(":")
    if not sep or not module_name or not attr:
        raise _refuse(f"{entry!r} is not 'package.module:attr' (without a file, name a module)")
    try:
        target: Any = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        raise _refuse(
            f"module '{module_name}' cannot be imported on the server ({exc}); install the "
            "package into the server's environment, or upload the source file "
            "(bastion models register NAME model.py --entry-point ATTR), then register again"
        ) from exc
    except Exception as exc:  # the module is user code: anything may be raised importing it
        raise _refuse(
            f"importing module '{module_name}' raised {type(exc).__name__}: {exc}; fix the "
            "module, then register again"
        ) from exc
    for part in attr.split("."):
        if not hasattr(target, part):
            raise _refuse(f"module '{module_name}' has no attribute '{attr}'; name {_WHAT} in it")
        target = getattr(target, part)
    if inspect.isclass(target):
        if not callable(getattr(target, "predict", None)):
            raise _refuse(f"class '{entry}' has no predict method; name {_WHAT}")
    elif not callable(target):
        raise _refuse(f"'{entry}' is a {type(target).__name__}; name {_WHAT}")


def check_source_entry_point(params: Mapping[str, Any] | None, source: Path | bytes) -> None:
    """InvalidRequest unless the uploaded Python file parses and defines ``entry_point`` at
    its top level (a def, a class or an assignment); the file is not executed."""
    entry = _entry(params)
    if ":" in entry or "." in entry:
        raise _refuse(
            f"with a source file the entry point is a top-level name alone, e.g. 'predict', "
            f"not {entry!r}"
        )
    try:
        tree = ast.parse(
            source if isinstance(source, bytes) else source.read_bytes(), filename="model.py"
        )
    except (SyntaxError, ValueError) as exc:
        raise _refuse(
            f"the uploaded file is not valid Python ({exc}); fix it and register again"
        ) from exc
    defined = _top_level_names(tree)
    if "*" in defined:  # a star import may define it: loading the file will tell
        return
    if entry not in defined:
        found = ", ".join(sorted(defined)) or "none"
        raise _refuse(
            f"the uploaded file defines no top-level '{entry}' (top-level names: {found}); "
            f"name {_WHAT}"
        )


def _top_level_names(tree: ast.Module) -> set[str]:
    """Names a module binds when run: its top-level statements, including those inside
    top-level ``if``/``try``/``with``/loops (not inside functions or classes)."""
    defined: set[str] = set()
    pending: list[ast.stmt] = list(tree.body)
    while pending:
        node = pending.pop()
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            defined.add(node.name)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            defined.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, ast.Assign | ast.AnnAssign | ast.AugAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                defined.update(n.id for n in ast.walk(target) if isinstance(n, ast.Name))
        else:
            pending.extend(c for c in ast.iter_child_nodes(node) if isinstance(c, ast.stmt))
            if isinstance(node, ast.Try):
                pending.extend(s for h in node.handlers for s in h.body)
    return defined
