"""Rollups of closed periods: interaction records per hour, usage records per day.

The overview and the costs page sum over weeks of records; at a million rows a live
aggregate takes seconds. Closed periods never change, so they are summed once into small
tables, and a page reads those plus the live rows of the open period only. ``refresh`` rolls
up what closed since the last time (a period counts as closed ``GRACE`` after its end, so
records written just after their call are in it); a mark row per rollup, moved with a
conditional update in the same transaction, keeps two replicas from rolling up a period twice.
These tables are derived data: dropping them (and resetting the marks) only costs a rebuild.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import case, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql.elements import ColumnElement

from bastion.console.sql import hour_bucket
from bastion.store import Database
from bastion.store.audit_tables import AuditRecordRow as A
from bastion.store.console_tables import RollupMarkRow as M
from bastion.store.console_tables import TrafficHourRow as T
from bastion.store.console_tables import UsageDayRow as D
from bastion.store.usage_tables import UsageRow as U

GRACE = timedelta(minutes=5)
# How far back a rollup reaches: what the pages read (the overview's 24 hours of traffic; 90
# days of usage, the costs page's longest window). Older periods are never rolled up, so the
# first refresh on a big, old database sums only these.
TRAFFIC_REACH = timedelta(hours=25)
USAGE_REACH = timedelta(days=91)
TRAFFIC, USAGE = "traffic_hourly", "usage_daily"
HOUR_FMT = "%Y-%m-%d %H"


def hour_of(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime(HOUR_FMT)


def parse_hour(text: str) -> datetime:
    return datetime.strptime(text, HOUR_FMT).replace(tzinfo=UTC)


async def marks(db: Database) -> dict[str, str]:
    async with db.session() as session:
        rows = await session.execute(select(M.name, M.until))
        return {str(name): str(until) for name, until in rows}


async def refresh(db: Database, now: datetime) -> dict[str, str]:
    """Roll up the periods closed since the last refresh; returns the marks now in force."""
    current = await marks(db)
    for name in (TRAFFIC, USAGE):
        if name not in current:  # emptied by hand: start over (the rollups go with it)
            await _restart(db, name)
    hour_end = hour_of(now - GRACE)
    mark = current.get(TRAFFIC, "")
    if mark < hour_end:
        since = max(mark, hour_of(now - TRAFFIC_REACH))
        await _roll(db, TRAFFIC, mark, since, hour_end, _traffic_rows)
    day_end = (now - GRACE).astimezone(UTC).date().isoformat()
    mark = current.get(USAGE, "")
    if mark < day_end:
        since = max(mark, (now - USAGE_REACH).astimezone(UTC).date().isoformat())
        await _roll(db, USAGE, mark, since, day_end, _usage_rows)
    return await marks(db)


async def _restart(db: Database, name: str) -> None:
    table = T if name == TRAFFIC else D
    async with db.session() as session:
        await session.execute(delete(table))
        session.add(M(name=name, until=""))
        try:
            await session.commit()
        except IntegrityError:  # another process restarted it first
            await session.rollback()


async def _roll(db: Database, name: str, mark: str, since: str, end: str, rows: Any) -> None:
    """Sum ``since``..``end`` and move the mark from ``mark`` to ``end``, in one transaction."""
    async with db.session() as session:
        moved = await session.execute(
            update(M).where(M.name == name, M.until == mark).values(until=end)
        )
        if moved.rowcount != 1:  # type: ignore[attr-defined]  # another process rolled it up
            await session.rollback()
            return
        await session.execute(rows(db.dialect, since, end))
        await session.commit()


def _traffic_rows(dialect: str, start: str, end: str) -> Any:
    bucket = hour_bucket(dialect, A.at)
    where = [A.kind == "interaction", A.at < parse_hour(end)]
    if start:
        where.append(A.at >= parse_hour(start))
    query = (
        select(bucket, A.tenant, A.deployment, A.status, A.error_type, func.count())
        .where(*where)
        .group_by(bucket, A.tenant, A.deployment, A.status, A.error_type)
    )
    columns = ["hour", "tenant", "deployment", "status", "error_type", "requests"]
    return insert(T).from_select(columns, query)


_USAGE_KEYS = (U.day, U.tenant, U.team, U.key_id, U.deployment, U.model)


def _usage_rows(dialect: str, start: str, end: str) -> Any:
    where = [U.day < end]
    if start:
        where.append(U.day >= start)
    sums = (
        func.count(),
        func.coalesce(func.sum(U.prompt_tokens), 0),
        func.coalesce(func.sum(U.completion_tokens), 0),
        func.coalesce(func.sum(U.tokens), 0),
        func.coalesce(func.sum(case((U.cached, 1), else_=0)), 0),
        func.coalesce(func.sum(U.cost_micros), 0),
    )
    query = select(*_USAGE_KEYS, *sums).where(*where).group_by(*_USAGE_KEYS)
    columns = ["day", "tenant", "team", "key_id", "deployment", "model"]
    columns += ["requests", "prompt_tokens", "completion_tokens", "tokens", "cached"]
    return insert(D).from_select([*columns, "cost_micros"], query)


async def traffic(
    db: Database, mark: str, start: datetime, tenant: str | None
) -> tuple[dict[str, tuple[int, int]], dict[str, int]]:
    """Requests and errors per hour since ``start`` (at most ``TRAFFIC_REACH`` ago), and
    errors by type: closed hours from the rollup, the rest live."""
    per_hour: dict[str, tuple[int, int]] = {}
    by_type: dict[str, int] = {}
    err = case((T.status == "error", T.requests), else_=0)
    closed = select(T.hour, func.sum(T.requests), func.sum(err)).where(
        T.hour >= hour_of(start), T.hour < mark
    )
    closed_types = select(T.error_type, func.sum(T.requests)).where(
        T.hour >= hour_of(start), T.hour < mark, T.status == "error"
    )
    live_from = max(start, parse_hour(mark)) if mark else start
    bucket = hour_bucket(db.dialect, A.at)
    where: list[ColumnElement[bool]] = [A.kind == "interaction", A.at >= live_from]
    live = select(bucket, func.count(), func.sum(case((A.status == "error", 1), else_=0)))
    live_types = select(A.error_type, func.count()).where(A.status == "error")
    if tenant is not None:
        closed, closed_types = (
            closed.where(T.tenant == tenant),
            closed_types.where(T.tenant == tenant),
        )
        where.append(A.tenant == tenant)
    async with db.session() as session:
        hourly: tuple[Any, ...] = (closed.group_by(T.hour), live.where(*where).group_by(bucket))
        for query in hourly:
            for hour, n, e in await session.execute(query):
                old = per_hour.get(str(hour), (0, 0))
                per_hour[str(hour)] = (old[0] + int(n or 0), old[1] + int(e or 0))
        queries: tuple[Any, ...] = (
            closed_types.group_by(T.error_type),
            live_types.where(*where).group_by(A.error_type),
        )
        for query in queries:
            for kind, n in await session.execute(query):
                name = str(kind or "unknown")
                by_type[name] = by_type.get(name, 0) + int(n or 0)
    return per_hour, by_type


Filters = dict[str, str | None]
SUMS = ("requests", "prompt_tokens", "completion_tokens", "tokens", "cached", "cost_micros")


async def usage(
    db: Database,
    mark: str,
    by: Sequence[str],
    since: date,
    until: date,
    filters: Filters,
) -> list[dict[str, Any]]:
    """Usage summed by ``by`` (day, tenant, team, key, deployment, model) over the days
    ``since``..``until`` (at most ``USAGE_REACH`` ago): closed days from the rollup, the rest
    live; most costly first."""
    first, last = since.isoformat(), until.isoformat()
    groups: dict[tuple[Any, ...], list[int]] = {}
    rolled = _usage_query(D, by, filters).where(D.day >= first, D.day <= last, D.day < mark)
    live_from = max(first, mark) if mark else first
    live = _usage_query(U, by, filters).where(U.day >= live_from, U.day <= last)
    async with db.session() as session:
        for query in (rolled, live):
            for found in await session.execute(query):
                keys, sums = tuple(found[: len(by)]), found[len(by) :]
                total = groups.setdefault(keys, [0] * len(SUMS))
                for i, value in enumerate(sums):
                    total[i] += int(value or 0)
    out = []
    for keys, totals in groups.items():
        row: dict[str, Any] = dict(zip(by, keys, strict=True))
        row.update(zip(SUMS, totals, strict=True))
        row["cost_usd"] = row.pop("cost_micros") / 1_000_000
        out.append(row)
    out.sort(key=lambda r: (-r["cost_usd"], tuple(str(r[d]) for d in by)))
    return out


def _usage_query(table: Any, by: Sequence[str], filters: Filters) -> Any:
    columns = [getattr(table, "key_id" if d == "key" else d) for d in by]
    sums: list[Any]
    if table is D:
        sums = [func.sum(getattr(D, name)) for name in SUMS]
    else:
        sums = [
            func.count(),
            func.sum(U.prompt_tokens),
            func.sum(U.completion_tokens),
            func.sum(U.tokens),
            func.sum(case((U.cached, 1), else_=0)),
            func.sum(U.cost_micros),
        ]
    query = select(*columns, *sums)
    for name, value in filters.items():
        if value is not None:
            query = query.where(getattr(table, name) == value)
    return query.group_by(*columns) if columns else query
