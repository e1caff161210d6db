"""Python-callable destinations: ``module:function`` imported at start, called per attempt.

The function gets ``(body, key)``: the rendered body and the idempotency key. Async functions
are awaited; plain ones run in a thread. Raising ``ActionRejected`` fails the step for good,
``ActionConflict`` is a conflict; any other exception is retried.
"""

from __future__ import annotations

import asyncio
import importlib
import inspect
from collections.abc import Callable, Mapping
from typing import Any

from bastion.actions.base import ActionConflict, ActionRejected, Outcome
from bastion.actions.compiled import CompiledCall
from bastion.errors import ConfigError
from bastion.settings.actions import DestinationSettings


def load_callable(path: str, where: str) -> Callable[..., Any]:
    module_name, _, attr = path.partition(":")
    if not module_name or not attr:
        raise ConfigError(f"{where}: callable must look like 'package.module:function'")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ConfigError(f"{where}: cannot import {module_name}: {exc}") from exc
    fn = getattr(module, attr, None)
    if not callable(fn):
        raise ConfigError(f"{where}: {module_name} has no callable '{attr}'")
    found: Callable[..., Any] = fn
    return found


class PythonDestination:
    def __init__(self, name: str, settings: DestinationSettings) -> None:
        self.name = name
        self.settings = settings
        assert settings.callable is not None
        self._fn = load_callable(settings.callable, f"actions.destinations.{name}.callable")

    async def start(self) -> None:
        return None

    async def send(
        self, call: CompiledCall, ctx: Mapping[str, Any], key: str, *, reread: bool = False
    ) -> Outcome:
        body = call.body(ctx)
        try:
            async with asyncio.timeout(self.settings.timeout_s):
                if inspect.iscoroutinefunction(self._fn):
                    await self._fn(body, key)
                else:
                    await asyncio.to_thread(self._fn, body, key)
        except ActionRejected as exc:
            return Outcome("permanent", error=f"rejected: {exc}")
        except ActionConflict as exc:
            return Outcome("conflict", error=f"conflict: {exc}", details={"message": str(exc)})
        except TimeoutError:
            return Outcome("retry", error=f"timed out after {self.settings.timeout_s:g}s")
        except Exception as exc:  # the user's code: any failure is reported, then retried
            return Outcome("retry", error=f"{type(exc).__name__}: {str(exc)[:200]}")
        return Outcome("ok")

    async def aclose(self) -> None:
        return None
