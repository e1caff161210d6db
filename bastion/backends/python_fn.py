"""The ``python`` flavor: a Python function, or a class with ``predict``, served as a model."""

from __future__ import annotations

import asyncio
import importlib
import importlib.machinery
import importlib.util
import inspect
import re
import secrets
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import structlog

from bastion.backends.base import ModelSpec, Prediction, SharedResources
from bastion.backends.threads import VersionThreads
from bastion.errors import BastionError, ConfigError, ModelNotReady, ModelOutputInvalid

log = structlog.get_logger(__name__)

_ENVELOPE_KEYS = frozenset({"output", "confidence"})


@contextmanager
def map_python_errors(model: str, *, loading: bool = False) -> Iterator[None]:
    """The one place where a Python model's own exceptions become Bastion errors.

    The model is user code, so anything may be raised: this block is the boundary where
    ``except Exception`` belongs, like the ASGI one. BastionErrors raised on purpose (an
    ``InvalidRequest`` for an item the model cannot take) pass through unchanged.
    """
    try:
        yield
    except BastionError:
        raise
    except Exception as exc:
        kind = type(exc).__name__
        if loading:
            raise ConfigError(f"model {model}: loading it raised {kind}: {exc}") from exc
        log.exception("model_failed", model=model, error_type=kind)
        raise BastionError(
            f"model {model} raised {kind}; its traceback is in the server log (model_failed)"
        ) from exc


def _module_from_file(path: Path, spec: ModelSpec) -> ModuleType:
    """Execute a model's source file as a fresh module under a name no other load shares."""
    safe = re.sub(r"\W", "_", spec.name)
    name = f"bastion_model_{safe}_v{spec.version}_{secrets.token_hex(4)}"
    loader = importlib.machinery.SourceFileLoader(name, str(path))  # stored files have no .py
    module_spec = importlib.util.spec_from_file_location(name, path, loader=loader)
    if module_spec is None:
        raise ConfigError(f"model '{spec.name}': cannot load Python source from {path}")
    module = importlib.util.module_from_spec(module_spec)
    sys.modules[name] = module  # dataclasses and pickling look their module up here
    try:
        loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module


def resolve_entry_point(spec: ModelSpec) -> tuple[Any, ModuleType | None]:
    """The object an entry point names, and the module loaded for it from a file (if any)."""
    entry = spec.params.get("entry_point")
    if not isinstance(entry, str) or not entry:
        raise ConfigError(
            f"model '{spec.name}': the python flavor needs params.entry_point, "
            "'package.module:attr' (or 'attr' with a .py file)"
        )
    loaded: ModuleType | None = None
    if spec.artifact_path is not None:
        if ":" in entry:
            raise ConfigError(
                f"model '{spec.name}': with a source file the entry point is the attribute "
                f"name alone, e.g. 'predict', not {entry!r}"
            )
        module = loaded = _module_from_file(spec.artifact_path, spec)
        attr = entry
    else:
        module_name, sep, attr = entry.partition(":")
        if not sep or not module_name or not attr:
            raise ConfigError(
                f"model '{spec.name}': entry point {entry!r} is not 'package.module:attr'"
            )
        module = importlib.import_module(module_name)
    target: Any = module
    for part in attr.split("."):
        if not hasattr(target, part):
            raise ConfigError(f"model '{spec.name}': {module.__name__} has no attribute {attr!r}")
        target = getattr(target, part)
    return target, loaded


def _is_async(fn: Callable[..., Any]) -> bool:
    call = getattr(fn, "__call__", None)  # noqa: B004 - async callable objects count too
    return inspect.iscoroutinefunction(fn) or inspect.iscoroutinefunction(call)


def _plain(value: Any) -> Any:
    """numpy scalars and arrays become the JSON values they stand for."""
    return value.tolist() if isinstance(value, np.ndarray | np.generic) else value


def to_predictions(result: Any, expected: int, model: str) -> list[Prediction]:
    """Check a model's answer: one item per input, each a value or ``{output, confidence}``."""
    result = _plain(result)
    if not isinstance(result, list | tuple):
        raise ModelOutputInvalid(
            f"model {model} returned {type(result).__name__}; predict must return a list "
            "with one item per input"
        )
    if len(result) != expected:
        raise ModelOutputInvalid(
            f"model {model} returned {len(result)} outputs for {expected} inputs"
        )
    predictions = []
    for i, item in enumerate(result):
        if isinstance(item, Mapping) and "output" in item and set(item) <= _ENVELOPE_KEYS:
            confidence = _plain(item.get("confidence"))
            if confidence is not None and (
                isinstance(confidence, bool)
                or not isinstance(confidence, int | float)
                or not 0.0 <= confidence <= 1.0
            ):
                raise ModelOutputInvalid(
                    f"model {model}: outputs[{i}].confidence must be a number in [0, 1], "
                    f"got {confidence!r}"
                )
            conf = None if confidence is None else float(confidence)
            predictions.append(Prediction(_plain(item["output"]), confidence=conf))
        else:
            predictions.append(Prediction(_plain(item)))
    return predictions


class PythonBackend:
    """Calls ``f(inputs) -> outputs`` (or ``Model().predict``), sync ones in a worker thread."""

    def __init__(self, spec: ModelSpec, resources: SharedResources) -> None:
        self._spec = spec
        self._label = f"'{spec.name}' v{spec.version}"
        self._predict: Callable[[list[Any]], Any] | None = None
        self._async = False
        self._module: ModuleType | None = None
        self._threads = VersionThreads(self._label)

    async def load(self) -> None:
        with map_python_errors(self._label, loading=True):
            target, self._module = await asyncio.to_thread(resolve_entry_point, self._spec)
            if inspect.isclass(target):
                target = await asyncio.to_thread(target)
                setup = getattr(target, "load", None)
                if callable(setup) and _is_async(setup):
                    await setup()
                elif callable(setup):
                    await asyncio.to_thread(setup)
                target = getattr(target, "predict", None)
            if not callable(target):
                raise ConfigError(
                    f"model {self._label}: the entry point must be a function or a class "
                    "with a predict(inputs) method"
                )
        self._predict = target
        self._async = _is_async(target)

    async def infer(self, inputs: Sequence[Any]) -> list[Prediction]:
        predict = self._predict
        if predict is None:
            raise ModelNotReady(f"model {self._label} is not loaded", retry_after=1)
        items = list(inputs)
        with map_python_errors(self._label):
            if self._async:
                result = await predict(items)
            else:
                result = await self._threads.run(predict, items)
            if inspect.isawaitable(result):
                result = await result
        return to_predictions(result, len(items), self._label)

    async def aclose(self) -> None:
        self._predict = None
        self._threads.close()
        if self._module is not None:
            sys.modules.pop(self._module.__name__, None)
            self._module = None
