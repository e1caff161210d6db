"""What a call costs: per-model token prices (per 1K or 1M) or a price per prediction."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from types import MappingProxyType
from typing import Any

from bastion.errors import ConfigError
from bastion.governance.budget.base import MICROS_PER_USD

_SCALES = (("_per_1k", 1_000), ("_per_1m", 1_000_000), ("_per_token", 1))


@dataclass(frozen=True, slots=True)
class ModelPrice:
    """USD per input token, per output token and per prediction, as exact Decimals."""

    input_per_token: Decimal = Decimal(0)
    output_per_token: Decimal = Decimal(0)
    per_prediction: Decimal = Decimal(0)

    @classmethod
    def from_config(cls, raw: Mapping[str, Any], where: str) -> ModelPrice:
        """From ``input_per_1k``/``_per_1m``/``_per_token``, the same for output, and
        ``per_prediction``; numbers go through ``str`` so 0.15 stays exactly 0.15."""
        per_token: dict[str, Decimal] = {}
        known = {"per_prediction"}
        for side in ("input", "output"):
            for suffix, scale in _SCALES:
                known.add(side + suffix)
                if raw.get(side + suffix) is not None:
                    if side in per_token:
                        raise ConfigError(f"{where}: give one {side} price, not several")
                    per_token[side] = (
                        _decimal(raw[side + suffix], f"{where}.{side}{suffix}") / scale
                    )
        if set(raw) - known:
            raise ConfigError(f"{where}: unknown field(s) {', '.join(sorted(set(raw) - known))}")
        per_prediction = raw.get("per_prediction")
        return cls(
            per_token.get("input", Decimal(0)),
            per_token.get("output", Decimal(0)),
            Decimal(0) if per_prediction is None else _decimal(per_prediction, where),
        )


class PriceTable:
    """Model name -> ModelPrice; unknown models use ``default`` or are a ConfigError."""

    __slots__ = ("_listed", "_prices", "default")

    def __init__(self, prices: Mapping[str, ModelPrice], default: ModelPrice | None = None) -> None:
        self._prices = MappingProxyType(dict(prices))
        self._listed = frozenset(self._prices)
        self.default = default

    @classmethod
    def from_config(cls, config: Mapping[str, Any] | None) -> PriceTable:
        """From ``{"gpt-4o": {"input_per_1m": 2.5, "output_per_1m": 10}, "iris": {...}}``;
        an entry named ``default`` prices every model not listed."""
        prices = {
            str(model): ModelPrice.from_config(raw, f"prices.{model}")
            for model, raw in (config or {}).items()
        }
        return cls(prices, prices.pop("default", None))

    def __contains__(self, model: object) -> bool:
        return model in self._prices or self.default is not None

    def lists(self, model: str) -> bool:
        """Whether ``model`` has its own configured entry (not a default or derived price)."""
        return model in self._listed

    def with_defaults(self, prices: Mapping[str, ModelPrice]) -> PriceTable:
        """A copy that also prices the models this table does not list, with ``prices``
        (e.g. derived from LLM upstreams, for estimates); ``lists`` still names only the
        configured ones."""
        table = PriceTable({**prices, **self._prices}, self.default)
        table._listed = self._listed
        return table

    def price(self, model: str) -> ModelPrice:
        found = self._prices.get(model, self.default)
        if found is None:
            raise ConfigError(f"no price for model '{model}'; add it to prices")
        return found

    def cost_micros(
        self, model: str, prompt_tokens: int = 0, completion_tokens: int = 0, predictions: int = 0
    ) -> int:
        """Exact cost in micro-dollars, rounded up (never under-counted) once per call."""
        p = self.price(model)
        usd = (
            p.input_per_token * prompt_tokens
            + p.output_per_token * completion_tokens
            + p.per_prediction * predictions
        )
        return math.ceil(usd * MICROS_PER_USD)

    def cost(
        self, model: str, prompt_tokens: int = 0, completion_tokens: int = 0, predictions: int = 0
    ) -> float:
        """The cost in USD (from the exact micro-dollar amount)."""
        return (
            self.cost_micros(model, prompt_tokens, completion_tokens, predictions) / MICROS_PER_USD
        )


def _decimal(value: Any, where: str) -> Decimal:
    try:
        result = Decimal(str(value))
    except ArithmeticError as exc:
        raise ConfigError(f"{where}: {value!r} is not a number") from exc
    if not result.is_finite() or result < 0:
        raise ConfigError(f"{where}: a price must be a finite number >= 0")
    return result
