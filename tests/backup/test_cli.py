"""`bastion backup` and `bastion restore` as commands, with no server: PostgreSQL to PostgreSQL
through pg_dump/pg_restore, then `bastion audit verify` on the restored database."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from bastion.settings import Settings
from tests.backup.test_backup import _populate
from tests.dbfixtures import PostgresDatabases
from tests.e2e.server import BASTION, ROOT


def _bastion(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [BASTION, *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


async def test_backup_and_restore_commands_on_postgres(
    tmp_path: Path, postgres_databases: PostgresDatabases
) -> None:
    source_url, target_url = postgres_databases.create(), postgres_databases.create()
    await _populate(Settings(data_dir=tmp_path / "src", database_url=source_url, demo=False))
    base = {k: v for k, v in os.environ.items() if not k.startswith("BASTION_")}
    base["PYTHONPATH"] = str(ROOT)
    src = {**base, "BASTION_DATA_DIR": str(tmp_path / "src"), "BASTION_DATABASE_URL": source_url}
    made = _bastion("backup", "--out", str(tmp_path / "backups"), env=src)
    assert made.returncode == 0, made.stderr
    assert "pg_dump" in made.stdout
    (root,) = (tmp_path / "backups").iterdir()

    dst = {**base, "BASTION_DATA_DIR": str(tmp_path / "dst"), "BASTION_DATABASE_URL": target_url}
    done = _bastion("restore", str(root), env=dst)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "audit chain verified" in done.stdout
    again = _bastion("restore", str(root), env=dst)  # never over live data
    assert again.returncode == 1 and "already has tables" in again.stderr
    verified = _bastion("audit", "verify", "--offline", env=dst)  # the restored database itself
    assert verified.returncode == 0 and "records verified" in verified.stdout
