"""Feature lookup through Feast against the built-in table: what the enrich stage adds to a
predict call (p50 wall and CPU µs per call, one input and a batch of 32), 30 features.

Feast here is a real local repo (a Parquet file as the offline store, SQLite as the online
store), 1,000 entities materialized. Needs the ``feast`` extra:
``python -m bench.feast_lookup`` in a venv where it is installed (``make feast-unit`` builds
one); the built-in figure is measured the same way beside it.
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ENTITIES = 1000
CALLS = 400


def _repo(root: Path, rows: list[dict[str, float]]) -> Path:
    import pyarrow as pa
    import pyarrow.parquet as pq
    import yaml
    from feast import Entity, FeatureStore, FeatureView, Field, FileSource, ValueType
    from feast.types import Float64

    now = datetime.now(UTC)
    cols: dict[str, list[Any]] = {"id": list(range(ENTITIES))}
    cols["event_timestamp"] = [now - timedelta(hours=1)] * ENTITIES
    cols.update({n: [r[n] for r in rows] for n in rows[0]})
    pq.write_table(pa.table(cols), root / "t.parquet")
    config = {
        "project": "bench",
        "registry": str(root / "registry.db"),
        "provider": "local",
        "online_store": {"type": "sqlite", "path": str(root / "online.db")},
        "offline_store": {"type": "file"},
        "entity_key_serialization_version": 3,
    }
    (root / "feature_store.yaml").write_text(yaml.safe_dump(config))
    store = FeatureStore(repo_path=str(root))
    entity = Entity(name="e", join_keys=["id"], value_type=ValueType.INT64)
    view = FeatureView(
        name="t",
        entities=[entity],
        ttl=timedelta(days=1),
        schema=[Field(name=n, dtype=Float64) for n in rows[0]],
        source=FileSource(path=str(root / "t.parquet"), timestamp_field="event_timestamp"),
    )
    store.apply([entity, view])
    store.materialize(start_date=now - timedelta(days=1), end_date=now)
    return root


async def _stage_us(source: Any, batch: int) -> tuple[float, float]:
    """p50 wall and CPU µs of the enrich stage for a call of ``batch`` inputs."""
    from bastion.features import EnrichStage
    from bastion.pipeline import Call
    from bastion.settings.features import FeatureBinding

    binding = FeatureBinding(deployment="x", table="t", entity_key="id", missing="reject")
    stage = EnrichStage(source, {"x": binding})

    async def done(call: Call) -> Any:
        return None

    walls, cpus = [], []
    for n in range(CALLS):
        inputs = [{"id": str((n * batch + i) % ENTITIES)} for i in range(batch)]
        call = Call(request_id=str(n), deployment="x", api="predict", inputs=inputs,
                    batched=batch > 1, started_at=time.perf_counter())  # fmt: skip
        wall, cpu = time.perf_counter(), time.process_time()
        await stage(call, done)
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls) * 1e6, statistics.median(cpus) * 1e6


async def measure() -> dict[str, tuple[float, float]]:
    from bastion.demo.tabular import sample_inputs
    from bastion.features import BuiltinFeatures
    from bastion.features.feast_store import FeastFeatures
    from bastion.store import Database, migrate

    rows = sample_inputs(ENTITIES)
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{tmp}/features.db"
        await migrate.upgrade(url)
        db = Database(url)
        builtin = BuiltinFeatures(db)
        await builtin.load("t", [(str(i), r, None) for i, r in enumerate(rows)], None)
        feast = FeastFeatures(_repo(Path(tmp), rows), ["t"])
        await _stage_us(feast, 1)  # the first read loads Feast's registry
        for batch in (1, 32):
            out[f"built-in, {batch} input(s)"] = await _stage_us(builtin, batch)
            out[f"Feast (SQLite online store), {batch} input(s)"] = await _stage_us(feast, batch)
        await db.aclose()
    return out


def main() -> str:
    figures = asyncio.run(measure())
    lines = [
        "## Feature lookup: Feast against the built-in table (bench/feast_lookup.py)",
        "",
        f"The enrich stage alone (what it adds to a predict call), 30 features, {ENTITIES:,} "
        f"entities, {CALLS} calls each, p50:",
        "",
        "| source, call | wall µs | CPU µs |",
        "|---|---:|---:|",
        *(f"| {k} | {w:.1f} | {c:.1f} |" for k, (w, c) in figures.items()),
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    print(main())
