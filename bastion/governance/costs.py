"""Costs report: the usage log summed by key, team, tenant, deployment, model, prompt and day."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any, Literal

from sqlalchemy import Integer, func, select

from bastion.errors import InvalidRequest
from bastion.governance.budget.base import MICROS_PER_USD
from bastion.store.usage_tables import UsageRow

if TYPE_CHECKING:
    from bastion.store import Database

Dimension = Literal["key", "team", "tenant", "deployment", "model", "prompt", "day"]
DIMENSIONS: tuple[Dimension, ...] = (
    "key",
    "team",
    "tenant",
    "deployment",
    "model",
    "prompt",
    "day",
)
_COLUMNS = {
    "key": UsageRow.key_id,
    "team": UsageRow.team,
    "tenant": UsageRow.tenant,
    "deployment": UsageRow.deployment,
    "model": UsageRow.model,
    "prompt": UsageRow.prompt,  # NAME@VERSION; null for calls that named no prompt
    "day": UsageRow.day,
}


@dataclass(frozen=True, slots=True)
class CostFilter:
    """Which rows count: a UTC day range (inclusive) and optional tenant/team/key."""

    since: date | None = None
    until: date | None = None
    tenant: str | None = None
    team: str | None = None
    key_id: str | None = None


def parse_dimensions(by: Sequence[str]) -> list[Dimension]:
    """``["tenant", "day"]`` checked against the known dimensions (no repeats)."""
    out: list[Dimension] = []
    for name in by:
        match = next((d for d in DIMENSIONS if d == name), None)
        if match is None:
            raise InvalidRequest(
                f"by: unknown dimension {name!r}; choose from {', '.join(DIMENSIONS)}",
                details={"field": "by"},
            )
        if match not in out:
            out.append(match)
    return out or ["tenant", "day"]


async def cost_report(
    db: Database, by: Sequence[Dimension], where: CostFilter
) -> list[dict[str, Any]]:
    """One row per group: the dimensions, then requests, tokens and cost (USD), by cost."""
    columns = [_COLUMNS[d].label(d) for d in by]
    micros = func.coalesce(func.sum(UsageRow.cost_micros), 0)
    query = select(
        *columns,
        func.count().label("requests"),
        func.coalesce(func.sum(UsageRow.prompt_tokens), 0).label("prompt_tokens"),
        func.coalesce(func.sum(UsageRow.completion_tokens), 0).label("completion_tokens"),
        func.coalesce(func.sum(UsageRow.tokens), 0).label("tokens"),
        func.coalesce(func.sum(UsageRow.cached.cast(Integer)), 0).label("cached"),
        # calls whose tokens (and so cost) are an estimate: the upstream sent no usage
        func.coalesce(func.sum(UsageRow.estimated.cast(Integer)), 0).label("estimated"),
        micros.label("cost_micros"),
    )
    if where.since is not None:
        query = query.where(UsageRow.day >= where.since.isoformat())
    if where.until is not None:
        query = query.where(UsageRow.day <= where.until.isoformat())
    for column, value in (
        (UsageRow.tenant, where.tenant),
        (UsageRow.team, where.team),
        (UsageRow.key_id, where.key_id),
    ):
        if value is not None:
            query = query.where(column == value)
    if columns:
        query = query.group_by(*[_COLUMNS[d] for d in by])
    query = query.order_by(micros.desc(), *[_COLUMNS[d] for d in by])
    async with db.session() as session:
        rows = (await session.execute(query)).mappings().all()
    return [_shape(dict(r), by) for r in rows]


def _shape(row: dict[str, Any], by: Sequence[Dimension]) -> dict[str, Any]:
    out: dict[str, Any] = {d: row[d] for d in by}
    for name in ("requests", "prompt_tokens", "completion_tokens", "tokens", "cached", "estimated"):
        out[name] = int(row[name])
    out["cost_usd"] = int(row["cost_micros"]) / MICROS_PER_USD
    return out


def total_cost(rows: Sequence[dict[str, Any]]) -> float:
    """The sum of a report's costs, from exact micro-dollars."""
    micros: int = sum(round(float(r["cost_usd"]) * MICROS_PER_USD) for r in rows)
    return micros / MICROS_PER_USD
