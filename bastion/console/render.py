"""Templates: one Jinja2 environment (autoescaped), filters for time, money and durations."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup


def _when(value: Any) -> Markup:
    """A UTC time that never wraps in a table cell."""
    return Markup('<span class="nw">{}</span>').format(_when_text(value))


def _when_text(value: Any) -> str:
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return str(value)
    if not isinstance(value, datetime):
        return "—" if value is None else str(value)
    value = value if value.tzinfo else value.replace(tzinfo=UTC)
    return str(value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S"))


def _usd(value: Any) -> str:
    if value is None:
        return "—"
    value = float(value)
    if value == 0 or abs(value) >= 1:
        return f"${value:,.2f}"
    return "$" + f"{value:.6f}".rstrip("0")


def _ms(seconds: Any) -> str:
    if seconds is None:
        return "—"
    ms = float(seconds) * 1000
    return f"{ms:,.0f} ms" if ms >= 100 else f"{ms:.1f} ms"


def _pct(value: Any) -> str:
    return "—" if value is None else f"{float(value) * 100:.1f}%"


def _pretty(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True, default=str)


def _iso(value: Any) -> str:
    if isinstance(value, datetime):
        value = value if value.tzinfo else value.replace(tzinfo=UTC)
        return str(value.isoformat())
    return "" if value is None else str(value)


def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("bastion.console", "templates"),
        autoescape=select_autoescape(default=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(when=_when, usd=_usd, ms=_ms, pct=_pct, pretty=_pretty, iso=_iso)
    env.globals["svg"] = Markup  # charts are built by charts.py from numbers, never user text
    return env
