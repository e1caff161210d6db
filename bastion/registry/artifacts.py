"""Content-addressed artifact store: files named by their sha256, checked on every read."""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import secrets
from pathlib import Path
from typing import IO

from bastion.errors import ArtifactIntegrityError, InvalidRequest

CHUNK_BYTES = 1 << 20
READ_ONLY = 0o400  # readable by Bastion's own user only
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


def hash_file(path: Path) -> tuple[str, int]:
    """``(sha256 hex, size)`` of the file at ``path``, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK_BYTES):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class ArtifactStore:
    """Artifacts under ``root/sha256/ab/<hex>``: written once, read-only, verified on load.

    Methods do blocking file I/O; call them through ``asyncio.to_thread`` from async code.
    """

    def __init__(self, root: Path | str) -> None:
        self._root = Path(root)

    @property
    def root(self) -> Path:
        return self._root

    def location(self, sha256: str) -> Path:
        """Where the artifact with this hash lives (or would live); nothing is checked."""
        if not _SHA256.match(sha256):
            raise InvalidRequest(
                f"{sha256!r} is not a sha256 digest; expected 64 lowercase hex characters"
            )
        return self._root / "sha256" / sha256[:2] / sha256

    def incoming(self) -> Path:
        """A fresh temporary path inside the store (same file system: renames are atomic)."""
        tmp_dir = self._root / "tmp"
        tmp_dir.mkdir(parents=True, exist_ok=True)
        return tmp_dir / f"incoming-{secrets.token_hex(8)}"

    def adopt(self, tmp: Path, sha256: str, size: int) -> Path:
        """Move the fully written file ``tmp`` into place as ``sha256`` after hashing it;
        ArtifactIntegrityError (and ``tmp`` removed) if its bytes are not those."""
        target = self.location(sha256)
        try:
            actual, found = hash_file(tmp)
            if (actual, found) != (sha256, size):
                raise ArtifactIntegrityError(
                    f"the fetched artifact is {found} bytes with sha256 {actual}, expected "
                    f"{size} bytes with sha256 {sha256}: the shared store's copy does not "
                    "match the registry. Re-register the model from a trusted copy; "
                    "`bastion models verify` checks every store",
                    details={"path": str(target), "expected": sha256, "actual": actual},
                )
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp.chmod(READ_ONLY)
            os.replace(tmp, target)
            _fsync_dir(target.parent)
            return target
        finally:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()

    def put(self, source: Path | bytes) -> tuple[str, int]:
        """Store a file or bytes; return ``(sha256, size)``. Storing the same content twice is a
        no-op, and re-storing it over a tampered copy repairs the stored file."""
        tmp = self.incoming()
        try:
            with tmp.open("xb") as out:
                sha256, size = self._copy(source, out)
                out.flush()
                os.fsync(out.fileno())
            target = self.location(sha256)
            if self._intact(target, sha256, size):
                return sha256, size
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp.chmod(READ_ONLY)
            os.replace(tmp, target)
            _fsync_dir(target.parent)
            return sha256, size
        finally:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()

    @staticmethod
    def _copy(source: Path | bytes, out: IO[bytes]) -> tuple[str, int]:
        if isinstance(source, bytes):
            out.write(source)
            return hashlib.sha256(source).hexdigest(), len(source)
        digest = hashlib.sha256()
        size = 0
        try:
            handle = source.open("rb")
        except (FileNotFoundError, IsADirectoryError, PermissionError) as exc:
            raise InvalidRequest(
                f"cannot read artifact {source}: {exc.strerror}; pass a path to a readable file"
            ) from exc
        with handle:
            while chunk := handle.read(CHUNK_BYTES):
                digest.update(chunk)
                out.write(chunk)
                size += len(chunk)
        return digest.hexdigest(), size

    @staticmethod
    def _intact(target: Path, sha256: str, size: int) -> bool:
        try:
            if target.stat().st_size != size:
                return False
            return hash_file(target)[0] == sha256
        except FileNotFoundError:
            return False

    def path(self, sha256: str, *, expected_size: int | None = None) -> Path:
        """The stored file, after checking its sha256 (and size) against the recorded ones.

        Raises ArtifactIntegrityError if the file is missing or its bytes changed, with
        ``details`` holding ``path``, ``expected`` and ``actual`` (None when missing).
        """
        target = self.location(sha256)
        fix = (
            "Do not load it: re-register the model from a trusted copy of the artifact, "
            "and run `bastion models verify` to check the other stored artifacts."
        )
        details: dict[str, object] = {"path": str(target), "expected": sha256, "actual": None}
        try:
            size = target.stat().st_size
        except FileNotFoundError:
            raise ArtifactIntegrityError(
                f"artifact file {target} is missing (expected sha256 {sha256}). {fix}",
                details=details,
            ) from None
        if expected_size is not None and size != expected_size:
            actual, _ = hash_file(target)
            details["actual"] = actual
            raise ArtifactIntegrityError(
                f"artifact file {target} is {size} bytes, expected {expected_size} "
                f"(expected sha256 {sha256}, actual {actual}). {fix}",
                details=details,
            )
        actual, _ = hash_file(target)
        if actual != sha256:
            details["actual"] = actual
            raise ArtifactIntegrityError(
                f"artifact file {target} has been modified: expected sha256 {sha256}, "
                f"actual {actual}. {fix}",
                details=details,
            )
        return target
