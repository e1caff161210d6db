"""A private data directory: 0700, files created 0600, an existing database tightened."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from bastion.security.files import private_data_dir, sqlite_path


def test_a_fresh_data_dir_and_its_files_are_private(tmp_path: Path) -> None:
    before = os.umask(0o022)
    try:
        data = tmp_path / "data"
        db = data / "bastion.db"
        private_data_dir(data)
        db.write_bytes(b"x")
        assert stat.S_IMODE(data.stat().st_mode) == 0o700
        assert stat.S_IMODE(db.stat().st_mode) == 0o600
        db.chmod(0o644)
        private_data_dir(data, db)  # an existing database is tightened
        assert stat.S_IMODE(db.stat().st_mode) == 0o600
    finally:
        os.umask(before)


def test_sqlite_path() -> None:
    assert sqlite_path("sqlite+aiosqlite:////srv/b/bastion.db") == Path("/srv/b/bastion.db")
    assert sqlite_path("sqlite+aiosqlite:///:memory:") is None
    assert sqlite_path("postgresql+psycopg://h/db") is None
