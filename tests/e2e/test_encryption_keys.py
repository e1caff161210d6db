"""Fail fast on keys, contain a bad record: two replicas on one PostgreSQL. A replica whose
encryption key cannot open what the database holds refuses to start in one line; a review item
that does not decrypt is listed as unreadable (counted, alerted on) instead of failing the list."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import psycopg
import pytest

from bastion.security.encryption import Encryptor
from tests.e2e.server import Server, make_server
from tests.e2e.test_postgres import pg_url  # noqa: F401  (a fresh PostgreSQL database)
from tests.e2e.test_review import OUTPUT_SCHEMA

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]

RIGHT = "k1:" + base64.b64encode(b"\x11" * 32).decode()
WRONG = "k1:" + base64.b64encode(b"\x22" * 32).decode()


def _replica(tmp_path: Path, name: str, url: str, **env: str) -> Server:
    config = tmp_path / "bastion.yaml"
    policy = {"deployment": "lowconf", "confidence_below": 0.5}
    config.write_text(json.dumps({"review": {"policies": [policy]}}))
    return make_server(
        tmp_path / name, database_url=url, BASTION_DEMO="false", BASTION_CONFIG=str(config), **env
    )


def _refused(server: Server) -> str:
    with pytest.raises(RuntimeError, match="server exited early") as raised:
        server.start()
    return str(raised.value)


def _queue_one(server: Server) -> str:
    answer = server.post("/v1/deployments/lowconf/predict", json={"input": {"text": "win!"}})
    assert answer.status_code == 200, answer.text
    return str(answer.json()["output"]["review_id"])


def test_a_wrong_key_is_refused_at_start_and_a_bad_record_is_contained(
    pg_url: str,  # noqa: F811
    tmp_path: Path,
) -> None:
    healthy = _replica(tmp_path, "a", pg_url, BASTION_ENCRYPTION_KEYS=RIGHT).start()
    try:
        body: dict[str, Any] = {
            "flavor": "python",
            "params": {"entry_point": "tests.e2e.test_review:lowconf"},
            "signature": {"output_schema": OUTPUT_SCHEMA},
        }
        assert healthy.post("/v1/admin/models/lowconf/versions", json=body).status_code == 201
        promoted = healthy.post("/v1/admin/models/lowconf/promote", json={"version": 1})
        assert promoted.status_code == 200, promoted.text
        good, bad = _queue_one(healthy), _queue_one(healthy)

        # a second replica with the wrong key, or none, does not start: one line, no traceback
        wrong = _refused(_replica(tmp_path, "b", pg_url, BASTION_ENCRYPTION_KEYS=WRONG))
        assert "error (config_error)" in wrong and "BASTION_ENCRYPTION_KEYS" in wrong
        assert "key 'k1' is not the key" in wrong and "Traceback" not in wrong
        missing = _refused(_replica(tmp_path, "c", pg_url))
        assert "no encryption key is configured" in missing and "Traceback" not in missing

        # what a replica with another key would have written: the item no longer opens
        sealed = Encryptor.parse(WRONG).encrypt(json.dumps({"x": 1}).encode(), bad.encode())
        with psycopg.connect(pg_url) as conn:
            conn.execute("UPDATE review_items SET payload = %s WHERE id = %s", (sealed, bad))
        listing = healthy.get("/v1/review/items")
        assert listing.status_code == 200, listing.text
        items = {i["id"]: i for i in listing.json()["data"]}
        assert set(items) == {good, bad} and "unreadable" not in items[good]
        unreadable = items[bad]["unreadable"]
        assert unreadable["id"] == bad and "most likely that key is not" in unreadable["reason"]
        assert "altered" not in unreadable["reason"].split("most likely")[0]
        metrics = healthy.get("/metrics").text
        assert 'bastion_unreadable_records_total{kind="review_item"}' in metrics
        alerts = healthy.get("/v1/admin/alerts", params={"rule": "review_item_unreadable"})
        (alert,) = alerts.json()["data"]
        assert bad in alert["summary"] and alert["severity"] == "critical"
    finally:
        healthy.stop()
