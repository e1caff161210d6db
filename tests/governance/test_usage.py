"""The usage log and the costs report, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from bastion.core.principal import Principal
from bastion.errors import InvalidRequest
from bastion.governance.budget.base import Usage
from bastion.governance.costs import CostFilter, cost_report, parse_dimensions, total_cost
from bastion.governance.usage import UsageRecord, UsageRecorder
from bastion.pipeline import Call
from bastion.store import Database


def call(key: str, tenant: str, team: str | None, deployment: str, **reported: Any) -> Call:
    principal = Principal(key, key, tenant, frozenset({"client"}), team=team)
    return Call("r", deployment, "openai.chat", [{}], False, 0.0, principal=principal, **reported)


async def test_records_are_written_in_batches_and_summed(database: Database) -> None:
    recorder = UsageRecorder(database, max_batch=2)
    usage = {"prompt_tokens": 3, "completion_tokens": 7, "total_tokens": 10}
    recorder.record(
        call("k1", "acme", "search", "chat", usage=usage, served_by="chat"), Usage(1500, 1, 10)
    )
    recorder.record(
        call("k1", "acme", "search", "chat", usage=usage, served_by="backup"), Usage(500, 1, 10)
    )
    recorder.record(call("k2", "acme", None, "iris"), Usage(100, 1, 0))
    recorder.record(call("k3", "beta", None, "chat", cache="hit"), Usage(0, 1, 0))
    assert await recorder.flush() == 4
    assert await recorder.flush() == 0

    by_model = await cost_report(database, ["model"], CostFilter())
    assert [(r["model"], r["requests"], r["cost_usd"]) for r in by_model] == [
        ("chat", 2, 0.0015),  # the answered call and the cache hit (which cost nothing)
        ("backup", 1, 0.0005),
        ("iris", 1, 0.0001),
    ]
    by_tenant = {r["tenant"]: r for r in await cost_report(database, ["tenant"], CostFilter())}
    assert by_tenant["acme"]["requests"] == 3 and by_tenant["acme"]["cost_usd"] == 0.0021
    assert by_tenant["acme"]["prompt_tokens"] == 6 and by_tenant["acme"]["tokens"] == 20
    assert by_tenant["beta"]["cached"] == 1 and by_tenant["beta"]["cost_usd"] == 0.0
    team = await cost_report(database, ["team"], CostFilter(tenant="acme", team="search"))
    assert team == [
        {
            "team": "search",
            "requests": 2,
            "prompt_tokens": 6,
            "completion_tokens": 14,
            "tokens": 20,
            "cached": 0,
            "estimated": 0,
            "cost_usd": 0.002,
        }
    ]
    key = await cost_report(database, ["key", "deployment"], CostFilter(key_id="k2"))
    assert [(r["key"], r["deployment"], r["cost_usd"]) for r in key] == [("k2", "iris", 0.0001)]
    assert total_cost(by_model) == 0.0021


async def test_day_filters_and_grouping(database: Database) -> None:
    recorder = UsageRecorder(database)
    for day, micros in ((date(2025, 6, 1), 10), (date(2025, 6, 2), 20), (date(2025, 6, 3), 40)):
        at = datetime(day.year, day.month, day.day, 23, 59, tzinfo=UTC)
        record = UsageRecord.of(call("k1", "acme", None, "iris"), Usage(micros, 1, 0), now=at)
        recorder._pending.append(record)
    await recorder.aclose()
    rows = await cost_report(
        database, ["day"], CostFilter(since=date(2025, 6, 2), until=date(2025, 6, 3))
    )
    assert sorted((r["day"], r["cost_usd"]) for r in rows) == [
        ("2025-06-02", 0.00002),
        ("2025-06-03", 0.00004),
    ]


def test_dimensions_are_checked() -> None:
    assert parse_dimensions([]) == ["tenant", "day"]
    assert parse_dimensions(["model", "model", "day"]) == ["model", "day"]
    with pytest.raises(InvalidRequest, match="unknown dimension 'colour'"):
        parse_dimensions(["colour"])


async def test_a_full_queue_drops_new_records_instead_of_growing(database: Database) -> None:
    recorder = UsageRecorder(database, max_pending=2)
    for _ in range(3):
        recorder.record(call("k", "t", None, "d"), Usage(1, 1, 0))
    assert recorder.dropped == 1
    assert await recorder.flush() == 2


async def test_an_estimated_cost_is_marked_so_where_it_is_stored_and_shown(
    database: Database,
) -> None:
    recorder = UsageRecorder(database)
    usage = {"prompt_tokens": 40, "completion_tokens": 3, "total_tokens": 43}
    cut = call("k1", "acme", None, "chat", usage=usage, usage_estimated=True)
    assert UsageRecord.of(cut, Usage(90, 1, 43)).row()["estimated"] is True
    recorder.record(cut, Usage(90, 1, 43))
    recorder.record(call("k1", "acme", None, "chat", usage=usage), Usage(90, 1, 43))
    assert await recorder.flush() == 2
    [row] = await cost_report(database, ["tenant"], CostFilter())
    assert (row["requests"], row["estimated"]) == (2, 1)
