"""Private files on disk: the data directory 0700, the files Bastion writes 0600 (0400 for
artifacts), whatever umask the process was started with."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

PRIVATE_UMASK = 0o077
DIR_MODE = 0o700
FILE_MODE = 0o600


def private_data_dir(data_dir: Path, database: Path | None = None) -> None:
    """Create (or tighten) ``data_dir`` as 0700 and make this process create private files.

    The umask is process-wide on purpose: SQLite's database, WAL and shm files, artifacts,
    caches and logs are all created by libraries that take the umask, not a mode. An
    existing SQLite ``database`` (and its WAL/shm) is tightened to 0600 too.
    """
    os.umask(PRIVATE_UMASK)
    data_dir.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    with contextlib.suppress(PermissionError):  # a directory we do not own stays as it is
        data_dir.chmod(DIR_MODE)
    if database is None:
        return
    for path in (database, Path(f"{database}-wal"), Path(f"{database}-shm")):
        with contextlib.suppress(FileNotFoundError, PermissionError):
            path.chmod(FILE_MODE)


def sqlite_path(url: str) -> Path | None:
    """The file of a ``sqlite`` URL (None for other databases and in-memory SQLite)."""
    prefix = url.split("://", 1)
    if len(prefix) != 2 or not prefix[0].startswith("sqlite"):
        return None
    path = prefix[1].removeprefix("/")
    if not path or path.startswith(":memory:") or path.startswith("file:"):
        return None
    return Path(path.split("?", 1)[0])
