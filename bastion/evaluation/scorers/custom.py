"""Custom scorers: any ``module:function`` taking ``(outputs, expecteds)`` and returning a
float (named after the function) or a dict of floats."""

from __future__ import annotations

import importlib
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from bastion.errors import InvalidRequest
from bastion.evaluation.base import Observations


def load_function(ref: str, allowed: Sequence[str] | None = None) -> Callable[..., Any]:
    """Import ``module:function``; with ``allowed``, only from those modules or packages."""
    module_name, sep, attr = ref.partition(":")
    if not sep or not module_name or not attr:
        raise InvalidRequest(
            f"custom scorer {ref!r}: name it as module:function, e.g. mypkg.scorers:bleu"
        )
    if allowed is not None and not any(
        module_name == m or module_name.startswith(m + ".") for m in allowed
    ):
        shown = ", ".join(allowed) or "none"
        raise InvalidRequest(
            f"custom scorer {ref!r}: module {module_name!r} is not allowed on this server "
            f"(evaluation.custom_scorer_modules: {shown}); run it with `bastion eval run`"
        )
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:  # an import runs foreign code: any failure is the scorer's
        raise InvalidRequest(
            f"custom scorer {ref!r}: cannot import module {module_name!r}: "
            f"{type(exc).__name__}: {exc}"
        ) from exc
    fn = getattr(module, attr, None)
    if fn is None:
        raise InvalidRequest(f"custom scorer {ref!r}: module {module_name!r} has no {attr!r}")
    if not callable(fn):
        raise InvalidRequest(f"custom scorer {ref!r}: {attr!r} is not callable")
    return fn  # type: ignore[no-any-return]


def _metrics(ref: str, name: str, result: Any) -> dict[str, float]:
    if isinstance(result, bool) or not isinstance(result, int | float | dict):
        raise InvalidRequest(
            f"custom scorer {ref!r} returned {type(result).__name__}; "
            "expected a float or a dict of metric name → float"
        )
    items = result.items() if isinstance(result, dict) else [(name, result)]
    out: dict[str, float] = {}
    for key, value in items:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InvalidRequest(
                f"custom scorer {ref!r}: metric {key!r} is {value!r}, not a number"
            )
        if not math.isfinite(value):
            raise InvalidRequest(f"custom scorer {ref!r}: metric {key!r} is {value}")
        out[str(key)] = float(value)
    return out


@dataclass(frozen=True, slots=True)
class CustomScorer:
    ref: str
    allowed: Sequence[str] | None = None
    fn: Callable[..., Any] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "fn", load_function(self.ref, self.allowed))

    @property
    def name(self) -> str:
        return f"custom:{self.ref}"

    def score(self, obs: Observations) -> dict[str, float]:
        if not len(obs):
            return {}
        try:
            result = self.fn(list(obs.values), list(obs.expected))
        except Exception as exc:  # the scorer is foreign code: report, never crash the run
            raise InvalidRequest(
                f"custom scorer {self.ref!r} raised {type(exc).__name__}: {exc}"
            ) from exc
        return _metrics(self.ref, self.ref.partition(":")[2], result)
