"""Audit records: canonical JSON, sealing into the chain, storable text, export round trips."""

from __future__ import annotations

import hashlib
import random
from datetime import UTC, datetime, timedelta, timezone

import numpy as np

from bastion.observability.audit import GENESIS, canonical, record_from_json, sha256_json
from bastion.observability.audit.record import seal, timestamp, utc_text
from tests.observability.audit.conftest import entry


def test_canonical_json_is_order_and_type_stable() -> None:
    assert canonical({"b": 1, "a": [1.5, "é"]}) == canonical({"a": [1.5, "é"], "b": 1})
    assert canonical({"b": 1, "a": 2}) == b'{"a":2,"b":1}'
    assert canonical(np.float32(0.5)) == b"0.5"
    assert sha256_json([1, 2]) == hashlib.sha256(b"[1,2]").hexdigest()
    # a lone surrogate (orjson refuses it) still has one deterministic form
    assert canonical("\ud800") == canonical("\ud800") == b'"\\ud800"'


def test_seal_chains_and_hashes_every_field() -> None:
    first = seal(entry(1), 1, GENESIS)
    second = seal(entry(2), 2, first.hash)
    assert first.prev_hash == GENESIS and second.prev_hash == first.hash
    assert first.computed_hash() == first.hash
    assert first.hash == sha256_json(first.chained_fields())
    moved = seal(entry(1), 2, first.hash)  # the same content elsewhere has another hash
    assert moved.hash != first.hash
    assert seal(entry(1, cost=0.26), 1, GENESIS).hash != first.hash


def test_hashed_time_is_utc_with_microseconds() -> None:
    record = seal(entry(0, at=datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=UTC)), 1, GENESIS)
    assert record.chained_fields()["at"] == "2026-01-02T03:04:05.000006Z"


def test_time_text_is_strftimes_to_the_byte() -> None:
    """Old records were hashed with ``strftime``: the faster form must write the same bytes."""
    zone = timezone(timedelta(hours=-7, minutes=-30))
    times = [
        datetime(2026, 1, 2, 3, 4, 5, 0, tzinfo=UTC),  # no microseconds: still six digits
        datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
        datetime(999, 1, 1, tzinfo=UTC),  # before 1000: strftime's own form, kept
        datetime(2026, 3, 1, 12, 0, 0, 123, tzinfo=zone),
        datetime(2026, 3, 1, 12, 0, 0, 123),  # naive: taken as UTC
    ]
    rng = random.Random(20)
    times += [
        datetime(1970, 1, 1, tzinfo=UTC) + timedelta(seconds=rng.random() * 2e9) for _ in range(200)
    ]
    for at in times:
        utc = (at if at.tzinfo else at.replace(tzinfo=UTC)).astimezone(UTC)
        assert timestamp(at) == utc.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        assert utc_text(utc, " ") == utc.strftime("%Y-%m-%d %H:%M:%S.%f")


def test_text_is_clipped_and_made_storable_before_hashing() -> None:
    record = seal(entry(1, deployment="x\x00y" + "z" * 500, actor_name="\udcff"), 1, GENESIS)
    assert record.deployment is not None and "\x00" not in record.deployment
    assert len(record.deployment) == 200
    assert record.actor_name == "?"
    assert record.computed_hash() == record.hash


def test_non_finite_cost_is_not_recorded() -> None:
    assert seal(entry(1, cost=float("nan")), 1, GENESIS).cost is None


def test_export_line_round_trips_to_the_same_hash() -> None:
    record = seal(entry(1, payload=b"\xbe\x01sealed", payload_key="k1"), 1, GENESIS)
    line = record.to_json()
    assert line["guards"] == {"injection": None, "pii": {"EMAIL": 1}}
    back = record_from_json(line)
    assert back == record
    assert back.computed_hash() == record.hash
