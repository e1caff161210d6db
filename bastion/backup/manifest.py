"""The backup manifest: what a backup holds, each file's sha256, and how to restore it."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

MANIFEST = "manifest.json"
FORMAT_VERSION = 1
_CHUNK = 1 << 20


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass(frozen=True, slots=True)
class FileEntry:
    path: str  # relative to the backup directory
    sha256: str
    bytes: int

    @classmethod
    def of(cls, root: Path, path: Path) -> FileEntry:
        return cls(path.relative_to(root).as_posix(), sha256_of(path), path.stat().st_size)


@dataclass(frozen=True, slots=True)
class Manifest:
    """``method``: ``sqlite`` (a database file), ``pg_dump`` (custom format) or ``portable``
    (JSON lines per table, restorable into either database)."""

    id: str
    created_at: str
    dialect: str
    method: str
    revisions: list[str]
    database: FileEntry
    artifacts: list[FileEntry] = field(default_factory=list)
    audit_head: tuple[int, str] | None = None
    tool: dict[str, str] = field(default_factory=dict)
    format: int = FORMAT_VERSION

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2)

    def write(self, root: Path) -> Path:
        path = root / MANIFEST
        path.write_text(self.to_json() + "\n", encoding="utf-8")
        return path

    @classmethod
    def read(cls, root: Path) -> Manifest:
        doc: dict[str, Any] = json.loads((root / MANIFEST).read_text(encoding="utf-8"))
        head = doc.get("audit_head")
        return cls(
            id=doc["id"],
            created_at=doc["created_at"],
            dialect=doc["dialect"],
            method=doc["method"],
            revisions=list(doc["revisions"]),
            database=FileEntry(**doc["database"]),
            artifacts=[FileEntry(**a) for a in doc.get("artifacts", [])],
            audit_head=(int(head[0]), str(head[1])) if head else None,
            tool=dict(doc.get("tool", {})),
            format=int(doc.get("format", FORMAT_VERSION)),
        )

    def damaged(self, root: Path) -> list[str]:
        """Files missing or whose hash differs from the manifest's (empty: intact)."""
        bad = []
        for entry in (self.database, *self.artifacts):
            path = root / entry.path
            if not path.is_file():
                bad.append(f"{entry.path}: missing")
            elif sha256_of(path) != entry.sha256:
                bad.append(f"{entry.path}: sha256 differs from the manifest")
        return bad
