"""`bastion alerts list | ack | test` in-process, against a temporary data dir."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bastion.cli.main import app
from bastion.observability.alerts import NewAlert
from bastion.store import Database, migrate
from bastion.store.alerts_tables import SqlAlertHistory

runner = CliRunner()


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("BASTION_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("BASTION_CONFIG", raising=False)
    return tmp_path / "data"


def _seed(data_dir: Path) -> None:
    url = f"sqlite+aiosqlite:///{data_dir.resolve() / 'bastion.db'}"

    async def main() -> None:
        data_dir.mkdir(parents=True, exist_ok=True)
        await migrate.upgrade(url)
        db = Database(url)
        history = SqlAlertHistory(db)
        at = datetime(2025, 6, 1, tzinfo=UTC)
        for key, deployment in (("errors:fraud", "fraud"), ("errors:chat", "chat")):
            new = NewAlert(
                key, "errors", "error_rate", "critical", f"{deployment} fails", deployment
            )
            await history.open(new, at=at, by="test")
        await history.close("errors:chat", at=at)
        await db.aclose()

    asyncio.run(main())


def test_list_and_ack(data_dir: Path) -> None:
    _seed(data_dir)
    listed = runner.invoke(app, ["alerts", "list"])
    assert listed.exit_code == 0, listed.output
    assert "errors" in listed.output and "resolved" in listed.output  # a table
    rows = json.loads(runner.invoke(app, ["alerts", "list", "--json"]).stdout)
    assert [(r["summary"], r["state"]) for r in rows] == [
        ("chat fails", "resolved"),
        ("fraud fails", "firing"),
    ]
    firing = json.loads(
        runner.invoke(app, ["alerts", "list", "--state", "firing", "--json"]).stdout
    )
    assert [r["deployment"] for r in firing] == ["fraud"]
    assert runner.invoke(app, ["alerts", "ack", "1", "--actor", "sam"]).exit_code == 0
    (acked,) = json.loads(
        runner.invoke(
            app, ["alerts", "list", "--json", "--limit", "1", "--deployment", "fraud"]
        ).stdout
    )
    assert acked["acked_by"] == "sam"
    resolved = runner.invoke(app, ["alerts", "ack", "2"])
    assert resolved.exit_code == 1 and "is not firing" in resolved.output
    bad = runner.invoke(app, ["alerts", "list", "--state", "open"])
    assert bad.exit_code == 2 and "'firing' or 'resolved'" in bad.output


@pytest.fixture
def receiver() -> Iterator[tuple[str, list[dict[str, object]]]]:
    got: list[dict[str, object]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers["content-length"])
            got.append(json.loads(self.rfile.read(length)))
            self.send_response(200 if self.path == "/ok" else 404)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", got
    server.shutdown()
    server.server_close()


def test_test_sends_to_each_webhook(
    data_dir: Path, tmp_path: Path, receiver: tuple[str, list[dict[str, object]]]
) -> None:
    url, got = receiver
    config = tmp_path / "bastion.yaml"
    config.write_text(
        "alerts:\n  webhooks:\n"
        f"    - {{name: ok, url: '{url}/ok'}}\n"
        f"    - {{name: slack, url: '{url}/ok', format: slack}}\n"
        f"    - {{name: gone, url: '{url}/gone'}}\n"
    )
    result = runner.invoke(app, ["alerts", "test", "-c", str(config)])
    assert result.exit_code == 1
    assert "ok: delivered" in result.output and "slack: delivered" in result.output
    assert "gone: FAILED" in result.output
    assert len(got) == 3 and "text" in got[1]
    only = runner.invoke(app, ["alerts", "test", "-c", str(config), "--webhook", "ok"])
    assert only.exit_code == 0, only.output
    none = runner.invoke(app, ["alerts", "test", "-c", str(config), "--webhook", "nope"])
    assert none.exit_code == 2
