"""A real local Feast repo for the tests: a Parquet file (the file offline store), a SQLite
online store and registry, applied and materialized through Feast's Python API."""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import yaml

VIEW = "patients"
JOIN_KEY = "patient_id"


def feast_repo(root: Path, history: Sequence[tuple[int, dict[str, float], datetime]]) -> Path:
    """``history``'s ``(patient_id, values, event_time)`` rows as feature view ``patients``
    (Float64 features, an INT64 entity), applied and materialized up to now."""
    import bastion.features.feast_store  # noqa: F401  (feast imported without its metrics dir)

    feast = importlib.import_module("feast")  # only now (an import statement would sort first)
    float64 = importlib.import_module("feast.types").Float64

    root.mkdir(parents=True, exist_ok=True)
    names = list(history[0][1])
    columns: dict[str, list[Any]] = {JOIN_KEY: [p for p, _, _ in history]}
    columns["event_timestamp"] = [t for _, _, t in history]
    columns.update({n: [v[n] for _, v, _ in history] for n in names})
    pq.write_table(pa.table(columns), root / "patients.parquet")
    config = {
        "project": "bastion_test",
        "registry": str(root / "registry.db"),
        "provider": "local",
        "online_store": {"type": "sqlite", "path": str(root / "online.db")},
        "offline_store": {"type": "file"},
        "entity_key_serialization_version": 3,
    }
    (root / "feature_store.yaml").write_text(yaml.safe_dump(config))
    store = feast.FeatureStore(repo_path=str(root))
    patient = feast.Entity(name="patient", join_keys=[JOIN_KEY], value_type=feast.ValueType.INT64)
    source = feast.FileSource(
        path=str(root / "patients.parquet"), timestamp_field="event_timestamp"
    )
    view = feast.FeatureView(
        name=VIEW,
        entities=[patient],
        ttl=timedelta(days=30),
        schema=[feast.Field(name=n, dtype=float64) for n in names],
        source=source,
    )
    store.apply([patient, view])
    now = datetime.now(UTC)
    store.materialize(start_date=now - timedelta(days=30), end_date=now)
    return root
