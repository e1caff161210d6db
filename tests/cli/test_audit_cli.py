"""`bastion audit …`: verify (exit 1 on tampering), export, rotate-key through a real server,
and the same offline (``--offline`` on the database, ``--file`` on an export), gen-key."""

from __future__ import annotations

import base64
import dataclasses
from pathlib import Path

import orjson
import pytest
from sqlalchemy import update
from typer.testing import CliRunner

from bastion.cli.main import app
from bastion.observability.audit import AuditEntry, AuditLog
from bastion.observability.audit.record import payload_aad, sha256_json
from bastion.observability.audit.sql import SqlAuditStore
from bastion.security.encryption import Encryptor
from bastion.settings.audit import AuditSettings
from bastion.store import Database
from bastion.store.audit_tables import AuditRecordRow
from tests.cli.conftest import make_key, ok, refused
from tests.dbfixtures import run_sync
from tests.e2e.server import Server
from tests.observability.audit.conftest import entry

runner = CliRunner()
K1 = "k1:" + base64.b64encode(b"\x01" * 32).decode()
K2 = "k2:" + base64.b64encode(b"\x02" * 32).decode()


@pytest.fixture
def db_env(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("BASTION_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("BASTION_DATABASE_URL", database_url)
    return database_url


def _append(url: str, entries: list[AuditEntry]) -> None:
    async def go() -> None:
        db = Database(url)
        log = AuditLog(SqlAuditStore(db), AuditSettings())
        try:
            for e in entries:
                await log.append(e)
        finally:
            await log.aclose()
            await db.aclose()

    run_sync(go())


def _tamper(url: str, seq: int) -> None:
    async def go() -> None:
        db = Database(url)
        try:
            async with db.session() as session:
                stmt = update(AuditRecordRow).where(AuditRecordRow.seq == seq)
                await session.execute(stmt.values(actor_name="mallory"))
                await session.commit()
        finally:
            await db.aclose()

    run_sync(go())


def _sealed(ring: Encryptor, n: int) -> AuditEntry:
    inputs, outputs = [{"n": n}], [{"label": "ok"}]
    ins, outs = sha256_json(inputs), sha256_json(outputs)
    body = orjson.dumps({"inputs": inputs, "outputs": outputs})
    return dataclasses.replace(
        entry(n, input_sha256=ins, output_sha256=outs),
        payload=ring.encrypt(body, payload_aad(ins, outs)),
        payload_key=ring.active_key_id,
    )


def test_verify_passes_then_fails_with_exit_1_after_tampering(db_env: str) -> None:
    _append(db_env, [entry(i) for i in range(1, 6)])
    ok = runner.invoke(app, ["audit", "verify", "--offline"])
    assert ok.exit_code == 0, ok.output
    assert "5 records verified" in ok.output and "head 5" in ok.output
    _tamper(db_env, 3)
    broken = runner.invoke(app, ["audit", "verify", "--offline"])
    assert broken.exit_code == 1, broken.output
    assert "BROKEN at record 3 (edited)" in broken.output
    as_json = runner.invoke(app, ["audit", "verify", "--offline", "--json", "--from", "4"])
    assert as_json.exit_code == 0  # the range after the edit is intact
    assert orjson.loads(as_json.output)["checked"] == 2


def test_export_is_jsonl_and_verifies_on_its_own(db_env: str, tmp_path: Path) -> None:
    _append(db_env, [entry(i) for i in range(1, 4)])
    out = runner.invoke(app, ["audit", "export", "--offline"])
    assert out.exit_code == 0, out.output
    lines = [orjson.loads(line) for line in out.output.splitlines()]
    assert [r["seq"] for r in lines] == [1, 2, 3] and lines[0]["request_id"] == "req-1"
    since = runner.invoke(app, ["audit", "export", "--offline", "--since", "2026-03-01T12:00:02"])
    assert [orjson.loads(x)["seq"] for x in since.output.splitlines()] == [2, 3]
    path = tmp_path / "audit.jsonl"
    saved = runner.invoke(app, ["audit", "export", "--offline", "-o", str(path)])
    assert saved.exit_code == 0 and "exported 3 records" in saved.output
    assert runner.invoke(app, ["audit", "verify", "--file", str(path)]).exit_code == 0
    edited = path.read_text().replace('"req-2"', '"req-X"')
    path.write_text(edited)
    bad = runner.invoke(app, ["audit", "verify", "--file", str(path)])
    assert bad.exit_code == 1 and "record 2" in bad.output
    wrong = runner.invoke(app, ["audit", "export", "--offline", "--format", "csv"])
    assert wrong.exit_code == 2 and "use jsonl" in wrong.output


def test_rotate_key_reencrypts_payloads_while_keeping_the_chain(
    db_env: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = Encryptor.parse(K1)
    _append(db_env, [_sealed(old, i) for i in range(1, 4)])
    no_key = runner.invoke(app, ["audit", "verify", "--offline", "--payloads"])
    assert no_key.exit_code == 1 and "BASTION_ENCRYPTION_KEYS" in no_key.output
    monkeypatch.setenv("BASTION_ENCRYPTION_KEYS", f"{K2},{K1}")  # k2 encrypts, k1 still reads
    rotated = runner.invoke(app, ["audit", "rotate-key", "--offline", "--batch", "2"])
    assert rotated.exit_code == 0, rotated.output
    assert "re-encrypted 3 payloads under key 'k2'" in rotated.output
    monkeypatch.setenv("BASTION_ENCRYPTION_KEYS", K2)  # k1 retired
    checked = runner.invoke(app, ["audit", "verify", "--offline", "--payloads"])
    assert checked.exit_code == 0, checked.output
    assert "3 payloads opened" in checked.output
    out = runner.invoke(app, ["audit", "export", "--offline", "--decrypt"])
    first = orjson.loads(out.output.splitlines()[0])
    assert first["payload_plain"] == {"inputs": [{"n": 1}], "outputs": [{"label": "ok"}]}
    assert first["payload_key"] == "k2"


def test_gen_key_prints_a_usable_key() -> None:
    out = runner.invoke(app, ["audit", "gen-key", "--id", "prod-1"])
    assert out.exit_code == 0
    assert Encryptor.parse(out.output.strip()).active_key_id == "prod-1"
    bad = runner.invoke(app, ["audit", "gen-key", "--id", "no good"])
    assert bad.exit_code == 2


@pytest.mark.e2e
def test_through_the_server_verify_export_and_rotate(cli_server: Server, tmp_path: Path) -> None:
    ok(cli_server, "keys", "create", "--name", "audited", "--role", "client")
    verified = orjson.loads(ok(cli_server, "audit", "verify", "--payloads", "--json"))
    assert verified["ok"] and verified["checked"] >= 1
    path = tmp_path / "export.jsonl"
    assert "exported" in ok(cli_server, "audit", "export", "-o", str(path))
    lines = [orjson.loads(x) for x in path.read_text().splitlines()]
    assert lines[0]["seq"] == 1 and len(lines) == verified["checked"]
    assert any(r["action"] == "key.created" for r in lines)
    assert runner.invoke(app, ["audit", "verify", "--file", str(path)]).exit_code == 0
    rotated = ok(cli_server, "audit", "rotate-key")
    assert "under key 'k1'" in rotated
    client = make_key(cli_server, "audit-client", "operator")
    denied = refused(cli_server, "audit", "export", env={"BASTION_KEY": client})
    assert "403" in denied and "admin role" in denied
    gone = refused(cli_server, "audit", "verify", "--url", "http://127.0.0.1:9")
    assert "cannot reach Bastion" in gone
