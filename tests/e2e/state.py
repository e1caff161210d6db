"""A snapshot of everything an admin operation may change, read through SQLAlchemy, so that a
test can show that a refusal changed nothing (audit rows, which a refusal may add, excluded)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import create_engine, select

import bastion.store.alerts_tables
import bastion.store.audit_tables
import bastion.store.evaluation_tables
import bastion.store.monitoring_tables
import bastion.store.review_tables
import bastion.store.rollouts_tables
import bastion.store.security_tables
import bastion.store.usage_tables  # noqa: F401  (every table on Base.metadata)
from bastion.store.tables import Base

# Not the state of the registry, aliases, rollouts, keys, review queue or eval sets: written by
# every request or by background loops (audit, usage, prediction log, counters, the driver's
# lease, alert evaluation), whatever an admin route answers.
BACKGROUND = frozenset(
    {
        "audit_records",
        "usage_records",
        "prediction_log",
        "prediction_feedback",
        "rollout_stats",
        "rollout_leases",
        "rollout_ab_assignments",
        "alerts",
    }
)
# Bookkeeping columns that a successful authentication may touch.
VOLATILE = frozenset({("api_keys", "last_used_at")})


def sync_url(url: str) -> str:
    """The synchronous driver's URL for an async one."""
    return url.replace("+aiosqlite", "").replace("+asyncpg", "+psycopg")


def snapshot(database_url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every state table, as sorted tuples of column values, by table name."""
    engine = create_engine(sync_url(database_url))
    out: dict[str, list[tuple[Any, ...]]] = {}
    try:
        with engine.connect() as conn:
            for table in Base.metadata.sorted_tables:
                if table.name in BACKGROUND:
                    continue
                columns = [c for c in table.columns if (table.name, c.name) not in VOLATILE]
                rows = conn.execute(select(*columns)).all()
                out[table.name] = sorted((tuple(r) for r in rows), key=repr)
    finally:
        engine.dispose()
    return out


def changes(
    before: dict[str, list[tuple[Any, ...]]], after: dict[str, list[tuple[Any, ...]]]
) -> dict[str, dict[str, list[tuple[Any, ...]]]]:
    """Per changed table: rows that disappeared and rows that appeared."""
    out = {}
    for name in sorted(set(before) | set(after)):
        old, new = before.get(name, []), after.get(name, [])
        if old != new:
            out[name] = {
                "gone": [r for r in old if r not in new],
                "new": [r for r in new if r not in old],
            }
    return out
