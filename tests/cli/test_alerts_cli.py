"""`bastion alerts list | ack | test` through a real server."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime

import pytest

from bastion.observability.alerts import NewAlert
from bastion.observability.alerts.sql import SqlAlertHistory
from bastion.store import Database
from tests.cli.conftest import Receiver, admin_actions, make_key, ok, refused
from tests.e2e.server import Server

pytestmark = pytest.mark.e2e


def _seed(server: Server) -> dict[str, int]:
    """Two alerts straight into the server's database (one resolved): their ids by summary."""
    url = f"sqlite+aiosqlite:///{server.data_dir.resolve() / 'bastion.db'}"

    async def main() -> dict[str, int]:
        db = Database(url)
        history = SqlAlertHistory(db)
        at = datetime(2025, 6, 1, tzinfo=UTC)
        ids = {}
        for key, deployment in (("errors:fraud", "fraud"), ("errors:chat", "chat")):
            new = NewAlert(
                key, "errors", "error_rate", "critical", f"{deployment} fails", deployment
            )
            opened = await history.open(new, at=at, by="test")
            assert opened is not None
            ids[deployment] = opened.id
        await history.close("errors:chat", at=at)
        await db.aclose()
        return ids

    return asyncio.run(main())


def test_list_and_ack(cli_server: Server) -> None:
    ids = _seed(cli_server)
    listed = ok(cli_server, "alerts", "list")
    assert "errors" in listed and "resolved" in listed  # a table
    rows = json.loads(ok(cli_server, "alerts", "list", "--json", "--rule", "errors"))
    assert [(r["summary"], r["state"]) for r in rows] == [
        ("chat fails", "resolved"),
        ("fraud fails", "firing"),
    ]
    firing = json.loads(ok(cli_server, "alerts", "list", "--state", "firing", "--json"))
    assert "fraud" in [r["deployment"] for r in firing]

    client = make_key(cli_server, "alerts-client", "client")
    denied = refused(cli_server, "alerts", "ack", str(ids["fraud"]), env={"BASTION_KEY": client})
    assert "403" in denied
    assert ok(cli_server, "alerts", "ack", str(ids["fraud"])).startswith(
        f"alert {ids['fraud']} acknowledged by admin (BASTION_ADMIN_KEY)"
    )
    (acked,) = json.loads(
        ok(cli_server, "alerts", "list", "--json", "--limit", "1", "--deployment", "fraud")
    )
    assert acked["acked_by"] == "admin (BASTION_ADMIN_KEY)"
    assert [r["action"] for r in admin_actions(cli_server)].count("alert.acknowledged") == 1
    assert "already resolved" in refused(cli_server, "alerts", "ack", str(ids["chat"]))
    done = cli_server.cli("alerts", "list", "--state", "open", check=False)
    assert done.returncode == 2 and "'firing' or 'resolved'" in done.stderr


def test_the_server_sends_the_test_notification(cli_server: Server, receiver: Receiver) -> None:
    receiver.got.clear()
    done = cli_server.cli("alerts", "test", check=False)
    assert done.returncode == 1
    assert "ok: delivered" in done.stdout and "slack: delivered" in done.stdout
    assert "gone: FAILED" in done.stdout
    assert len(receiver.got) == 3  # delivered at once: in any order
    assert sum("text" in body for _, body in receiver.got) == 1  # one Slack-shaped body
    assert "ok: delivered" in ok(cli_server, "alerts", "test", "--webhook", "ok")
    assert "no webhook 'nope'" in refused(cli_server, "alerts", "test", "--webhook", "nope")
