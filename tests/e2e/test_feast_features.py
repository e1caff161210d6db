"""Feast as the feature source through a real server: a predict call naming only its entity
is answered with the features from Feast's online store, `bastion features export` gives
the same values as the training row (Feast's point-in-time join), a reject binding answers
422 for an unknown entity, and loading into the built-in table is refused (409)."""

from __future__ import annotations

import asyncio
import importlib.util
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest
import yaml

from tests.e2e.server import make_server
from tests.features.feast_repo import VIEW, feast_repo
from tests.jobs.conftest import MODEL, job_settings, rows, seed

PREDICT = f"/v1/deployments/{MODEL}/predict"
# the `feast` extra (make feast-unit runs these in a venv that has it)
pytestmark = pytest.mark.skipif(importlib.util.find_spec("feast") is None, reason="no feast")


def test_feast_lookup_through_a_server_equals_the_exported_training_row(tmp_path: Path) -> None:
    now = datetime.now(UTC)
    old, new = rows(2)
    history = [(7, old, now - timedelta(days=3)), (7, new, now - timedelta(hours=2))]
    repo = feast_repo(tmp_path / "feast", history)
    data = tmp_path / "srv"
    data.mkdir()
    asyncio.run(seed(job_settings(data)))
    bind = {"deployment": MODEL, "table": VIEW, "entity_key": "patient_id", "missing": "reject"}
    cfg = {
        "demo": False,
        "monitoring": {"enabled": False},
        "features": {"source": "feast", "feast_repo": str(repo), "bindings": [bind]},
    }
    (data / "bastion.yaml").write_text(yaml.safe_dump(cfg))
    server = make_server(data, BASTION_CONFIG=str(data / "bastion.yaml")).start()
    try:
        by_key = server.post(PREDICT, json={"input": {"patient_id": 7}}, headers=server.auth)
        assert by_key.status_code == 200, by_key.text
        direct = server.post(PREDICT, json={"input": new}, headers=server.auth)
        assert by_key.json()["output"] == direct.json()["output"]
        assert by_key.json()["confidence"] == direct.json()["confidence"]
        unknown = server.post(PREDICT, json={"input": {"patient_id": 8}}, headers=server.auth)
        assert unknown.status_code == 422 and "patient_id='8'" in unknown.text, unknown.text
        ids = tmp_path / "ids.csv"
        ids.write_text(
            f"patient_id,as_of\n7,{now.isoformat()}\n7,{(now - timedelta(days=1)).isoformat()}\n"
        )
        out = tmp_path / "train.jsonl"
        server.cli("features", "export", VIEW, "--entities", str(ids), "--entity-key",
                   "patient_id", "-o", str(out))  # fmt: skip
        first, second = (orjson.loads(x) for x in out.read_bytes().splitlines())
        assert {k: first[k] for k in new} == new  # what serving read, now
        assert {k: second[k] for k in old} == old  # and what held a day ago
        table = tmp_path / "t.jsonl"
        table.write_bytes(orjson.dumps({"patient_id": 7, **new}) + b"\n")
        refused = server.cli("features", "load", VIEW, str(table), "--entity-key", "patient_id",
                             check=False)  # fmt: skip
        assert refused.returncode != 0 and "feast materialize" in refused.stdout + refused.stderr
    finally:
        server.stop()
