"""Consistent transforms: one versioned preprocessing function per deployment, run by the
transform stage (online and batch: jobs go through the pipeline) and by training-row export.

A transform is a registered Python function, ``module:name``, from a module the config
allows (``data.transform_modules``); it is imported once at start-up. The stage runs it on
each input after feature lookup and before the input schema, so the model, the contract
and the exported training rows all see the same prepared features.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bastion.errors import ConfigError, InvalidRequest
from bastion.settings.data import TransformBinding

if TYPE_CHECKING:
    from bastion.pipeline import Call, Next, Result


@dataclass(frozen=True, slots=True)
class Transform:
    name: str
    version: str
    fn: Callable[[Any], Any]

    def __call__(self, value: Any, where: str = "input") -> Any:
        try:
            return self.fn(value)
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidRequest(
                f"{where}: transform {self.name}@{self.version} could not prepare it: "
                f"{type(exc).__name__}: {exc}",
                details={"rule": f"transform:{self.name}"},
            ) from exc


def load_transforms(bindings: list[TransformBinding], allowed: list[str]) -> dict[str, Transform]:
    out = {}
    for b in bindings:
        module_name, _, attr = b.function.partition(":")
        if not any(module_name == m or module_name.startswith(m + ".") for m in allowed):
            raise ConfigError(
                f"data.transforms: {b.function} is not in data.transform_modules; add its "
                "module there to allow it"
            )
        try:
            fn = getattr(importlib.import_module(module_name), attr)
        except (ImportError, AttributeError) as exc:
            raise ConfigError(f"data.transforms: cannot import {b.function}: {exc}") from exc
        out[b.deployment] = Transform(b.function, b.version, fn)
    return out


class TransformStage:
    def __init__(self, transforms: dict[str, Transform]) -> None:
        self._transforms = transforms

    async def __call__(self, call: Call, next: Next) -> Result:
        transform = self._transforms.get(call.deployment)
        if transform is not None:
            call.inputs = [
                transform(v, f"inputs[{i}]" if call.batched else "input")
                for i, v in enumerate(call.inputs)
            ]
        return await next(call)
