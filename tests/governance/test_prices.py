"""PriceTable arithmetic: exact Decimal prices, integer micro-dollars, config shapes."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bastion.errors import ConfigError
from bastion.governance.budget import ModelPrice, PriceTable, usd_to_micros

PRICES = {
    "gpt-4o": {"input_per_1m": 2.5, "output_per_1m": 10},
    "gpt-3.5": {"input_per_1k": 0.0005, "output_per_1k": 0.0015},
    "iris": {"per_prediction": 0.0001},
}


def test_token_prices_per_1m_and_per_1k() -> None:
    table = PriceTable.from_config(PRICES)
    assert table.cost("gpt-4o", prompt_tokens=1000, completion_tokens=500) == 0.0075
    assert table.cost_micros("gpt-4o", 1000, 500) == 7500
    assert table.cost("gpt-3.5", 1000, 1000) == 0.002
    assert table.price("gpt-3.5").input_per_token == Decimal("0.0000005")


def test_price_per_prediction() -> None:
    table = PriceTable.from_config(PRICES)
    assert table.cost("iris", predictions=3) == 0.0003


def test_sums_do_not_drift() -> None:
    table = PriceTable.from_config({"m": {"per_prediction": 0.1}})
    total = sum(table.cost_micros("m", predictions=1) for _ in range(10_000))
    assert total == usd_to_micros(1000)
    floats = sum(0.1 for _ in range(10_000))
    assert floats != 1000.0  # what the integers avoid


def test_fractions_of_a_micro_dollar_round_up() -> None:
    table = PriceTable({"emb": ModelPrice(input_per_token=Decimal("0.00000002"))})
    assert table.cost_micros("emb", prompt_tokens=10) == 1
    assert table.cost_micros("emb", prompt_tokens=100_000) == 2000
    assert table.cost_micros("emb") == 0


def test_unknown_models_use_the_default_or_fail() -> None:
    table = PriceTable.from_config(PRICES)
    assert "nope" not in table
    with pytest.raises(ConfigError, match="no price for model 'nope'"):
        table.cost("nope", 1, 1)
    with_default = PriceTable.from_config({**PRICES, "default": {"per_prediction": 1}})
    assert "nope" in with_default
    assert with_default.cost("nope", predictions=2) == 2.0


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"input_per_1k": 1, "input_per_1m": 1}, "one input price"),
        ({"input_per_1k": -1}, ">= 0"),
        ({"input_per_1k": "abc"}, "not a number"),
        ({"input_per_1kk": 1}, "unknown field"),
    ],
)
def test_bad_price_config(raw: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        PriceTable.from_config({"m": raw})
