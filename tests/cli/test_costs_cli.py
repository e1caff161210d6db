"""`bastion costs report` through the server's costs API (scoped to what the key may see)."""

from __future__ import annotations

import json

import pytest

from tests.cli.conftest import make_key, ok
from tests.e2e.server import Server

pytestmark = pytest.mark.e2e


def test_report_as_json_and_table_and_a_bad_date(cli_server: Server) -> None:
    found = json.loads(ok(cli_server, "costs", "report", "--by", "tenant", "--json"))
    assert found["by"] == ["tenant"] and "total_usd" in found
    table = ok(cli_server, "costs", "report", "--by", "model,day", "--key-id", "key_none")
    assert "model" in table and "total: $0.000000 over 0 calls" in table
    client = make_key(cli_server, "costs-client", "client")
    mine = json.loads(ok(cli_server, "costs", "report", "--json", env={"BASTION_KEY": client}))
    assert mine["data"] == []  # a client key sees only its own usage
    done = cli_server.cli("costs", "report", "--since", "June", check=False)
    assert done.returncode == 2 and "2025-06-01" in done.stderr
