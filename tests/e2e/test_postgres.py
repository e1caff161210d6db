"""The same server against PostgreSQL: serving, promote and rollback across two processes."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.server import make_server
from tests.e2e.test_registry_live import run_promote_rollback
from tests.support import service_unavailable

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]

ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


@pytest.fixture
def pg_url() -> Iterator[str]:
    psycopg = pytest.importorskip("psycopg")
    try:
        admin = psycopg.connect(ADMIN_URL, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        service_unavailable(f"PostgreSQL not reachable at 127.0.0.1:5432: {exc}")
    name = "bastion_e2e_" + secrets.token_hex(4)
    admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql://postgres@127.0.0.1:5432/{name}"
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def test_serving_and_rollback_on_postgres(pg_url: str, tmp_path: Path) -> None:
    server = make_server(tmp_path / "data", database_url=pg_url).start()
    try:
        run_promote_rollback(server, tmp_path)
        r = server.get("/v1/admin/models")
        assert {m["name"] for m in r.json()["data"]} >= {
            "breast-cancer",
            "support-intent",
            "minilm",
        }
    finally:
        server.stop()
