"""Console pages over a million audit, prediction and usage records: p95 render ≤ 300 ms.

Migrates a fresh SQLite database, bulk-inserts the records (spread over 30 days, 5 tenants,
4 deployments), starts a real `bastion serve` on it, logs in to the console and fetches each
page in turn (server-side pagination and aggregates, through the console's indexes).
"""

from __future__ import annotations

import asyncio
import os
import random
import sqlite3
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from bench.harness import free_port, pinned

ROWS = 1_000_000
ROUNDS = 20
TARGET_MS = 300.0
TENANTS = ["acme", "globex", "initech", "umbrella", "hooli"]
DEPLOYMENTS = ["support-intent", "breast-cancer", "minilm", "chat"]
ERRORS = ["invalid_request", "timeout", "upstream_unavailable", "rate_limited"]
_FMT = "%Y-%m-%d %H:%M:%S.%f"  # how SQLAlchemy stores a DateTime in SQLite


def _migrate(data_dir: Path) -> Path:
    from bastion.store import migrate

    db = data_dir / "bastion.db"
    asyncio.run(migrate.upgrade(f"sqlite+aiosqlite:///{db}"))
    return db


def _rows(now: datetime, n: int) -> list[tuple[object, ...]]:
    """(seq, at, tenant, deployment, status, error_type, cost) spread over 30 days."""
    rng = random.Random(7)
    span = 30 * 86400
    out = []
    for seq in range(1, n + 1):
        at = now - timedelta(seconds=span * (n - seq) / n)
        error = rng.random() < 0.02
        out.append(
            (
                seq,
                at.strftime(_FMT),
                TENANTS[seq % len(TENANTS)],
                DEPLOYMENTS[seq % len(DEPLOYMENTS)],
                "error" if error else "ok",
                rng.choice(ERRORS) if error else None,
                round(rng.random() * 0.002, 6),
            )
        )
    return out


def _fill(db: Path, n: int) -> float:
    """Bulk-insert n audit, prediction and usage records; returns the seconds it took."""
    started = time.perf_counter()
    rows = _rows(datetime.now(UTC), n)
    con = sqlite3.connect(db)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=OFF")
    digest = "0" * 64
    details = '{"api":"predict","duration_ms":12.5,"inputs":1}'
    con.executemany(
        "INSERT INTO audit_records (seq, at, kind, action, actor_key_id, actor_name, tenant,"
        " deployment, version, request_id, status, error_type, input_sha256, output_sha256,"
        " cost, decision, details, prev_hash, hash) VALUES"
        " (?, ?, 'interaction', 'predict', 'key_' || ?, 'app-' || ?, ?, ?, 1, 'req' || ?, ?,"
        " ?, ?, ?, ?, 'answered', ?, ?, ?)",
        (
            (s, at, t, t, t, d, s, st, et, digest, digest, c, details, digest, digest)
            for s, at, t, d, st, et, c in rows
        ),
    )
    payload = b'{"input":"[EMAIL] asked about a refund","output":{"label":"refund_request"}}'
    con.executemany(
        "INSERT INTO prediction_log (id, request_id, item_index, items, deployment, model,"
        " version, tenant, at, confidence, label, segments, mode, input_logged, payload)"
        " VALUES (?, 'req' || ?, 0, 1, ?, ?, 1, ?, ?, 0.8, 'refund_request', '{}', 'scrubbed',"
        " 1, ?)",
        ((s, s, d, d, t, at, payload) for s, at, t, d, *_ in rows),
    )
    con.executemany(
        "INSERT INTO usage_records (id, at, day, request_id, tenant, team, key_id, deployment,"
        " model, api, cost_micros, prompt_tokens, completion_tokens, tokens, cached) VALUES"
        " (?, ?, substr(?, 1, 10), 'req' || ?, ?, NULL, 'key_' || ?, ?, ?, 'predict', ?,"
        " 0, 0, 0, 0)",
        ((s, at, at, s, t, t, d, d, int(c * 1e6)) for s, at, t, d, _, _, c in rows),
    )
    con.commit()
    con.execute("ANALYZE")
    con.close()
    return time.perf_counter() - started


def _serve(data_dir: Path, key: str) -> tuple[str, object]:
    import subprocess
    import sys

    port = free_port()
    env = {
        **os.environ,
        "BASTION_DATA_DIR": str(data_dir),
        "BASTION_ADMIN_KEY": key,
        "BASTION_DEMO": "false",
        "BASTION_LOGGING__LEVEL": "warning",
    }
    bastion = str(Path(sys.executable).with_name("bastion"))
    proc = subprocess.Popen(
        pinned([bastion, "serve", "--port", str(port)], 0),
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/readyz", timeout=1).status_code == 200:
                return url, proc
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("bastion did not become ready")


def _login(client: httpx.Client, key: str) -> None:
    form = client.get("/console/login").text
    csrf = form.split('name="csrf" value="', 1)[1].split('"', 1)[0]
    done = client.post("/console/login", data={"credential": key, "csrf": csrf})
    assert done.status_code == 303, done.text


def _key(url: str, admin: str, tenant: str) -> str:
    body = {"name": f"ops-{tenant}", "roles": ["operator"], "tenant": tenant}
    made = httpx.post(
        url + "/v1/admin/keys", json=body, headers={"Authorization": f"Bearer {admin}"}
    )
    return str(made.json()["key"])


def _measure(client: httpx.Client, path: str) -> tuple[float, float]:
    times = []
    for _ in range(ROUNDS):
        started = time.perf_counter()
        response = client.get(path)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (path, response.status_code, response.text[:300])
    times.sort()
    return statistics.median(times), times[int(0.95 * (len(times) - 1) + 0.5)]


def main() -> str:
    data_dir = Path(tempfile.mkdtemp(prefix="bastion-bench-console-"))
    db = _migrate(data_dir)
    fill_s = _fill(db, ROWS)
    admin = "bst_bench_" + os.urandom(8).hex()
    url, proc = _serve(data_dir, admin)
    mid = ROWS // 2
    pages = [
        ("overview", "/console/"),
        ("requests (newest)", "/console/requests"),
        ("requests by deployment", "/console/requests?deployment=minilm"),
        ("requests with errors", "/console/requests?status=error"),
        ("requests, a page deep in", f"/console/requests?before={mid}"),
        ("requests in a time range", "/console/requests?since=2000-01-01T00:00"),
        ("request by id (search)", f"/console/requests?request_id=req{mid}"),
        ("request detail", f"/console/requests/req{mid}"),
        ("costs by deployment, 30 days", "/console/costs?by=deployment&days=30"),
        ("costs by key, 7 days", "/console/costs?by=key&days=7"),
        ("monitoring (alerts)", "/console/monitoring"),
        ("deployments", "/console/deployments"),
        ("keys", "/console/keys"),
    ]
    lines = []
    try:
        operator = _key(url, admin, "acme")
        with httpx.Client(base_url=url, timeout=600) as client:
            _login(client, admin)
            started = time.perf_counter()
            assert client.get("/console/").status_code == 200
            build_s = time.perf_counter() - started  # the rollups of every closed period
        for who, key in (("admin, every tenant", admin), ("operator of one tenant", operator)):
            with httpx.Client(base_url=url, timeout=60) as client:
                _login(client, key)
                for name, path in pages:
                    if who.startswith("operator") and path == "/console/keys":
                        continue
                    p50, p95 = _measure(client, path)
                    verdict = "ok" if p95 <= TARGET_MS else "MISSES"
                    lines.append(f"| {name} | {who} | {p50:.1f} | {p95:.1f} | {verdict} |")
    finally:
        proc.terminate()  # type: ignore[attr-defined]
        proc.wait(20)  # type: ignore[attr-defined]
    table = "\n".join(
        [
            "| page | viewer | p50 ms | p95 ms | ≤ 300 ms |",
            "|---|---|---:|---:|---|",
            *lines,
        ]
    )
    return (
        "### Console pages over 1M audit, prediction and usage records — issue 19\n\n"
        f"{table}\n\n"
        f"{ROWS:,} records each in audit_records, prediction_log and usage_records (SQLite, "
        f"30 days, {len(TENANTS)} tenants, {len(DEPLOYMENTS)} deployments; bulk-inserted in "
        f"{fill_s:.0f} s), one `bastion serve` process pinned to CPU 0, {ROUNDS} sequential "
        "fetches per page through a logged-in session (the whole response: session lookup, "
        "queries, template). Before them, the first view after the bulk insert rolled up "
        f"every closed hour and day once: {build_s:.1f} s (see docs/console.md)."
    )


if __name__ == "__main__":
    print(main())
