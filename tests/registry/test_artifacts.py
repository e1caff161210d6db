"""ArtifactStore: content addressing, atomic read-only writes, and a hash check on every read."""

from __future__ import annotations

import hashlib
import stat
from pathlib import Path

import pytest

from bastion.errors import ArtifactIntegrityError, InvalidRequest
from bastion.registry import ArtifactStore
from bastion.registry.artifacts import hash_file

DATA = b"model bytes " * 1000
SHA = hashlib.sha256(DATA).hexdigest()


def tamper(path: Path) -> None:
    """Flip one byte of a stored (read-only) file."""
    path.chmod(0o644)
    raw = bytearray(path.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    path.write_bytes(bytes(raw))
    path.chmod(0o444)


def test_put_bytes_stores_by_sha256_read_only(artifacts: ArtifactStore) -> None:
    sha, size = artifacts.put(DATA)
    assert (sha, size) == (SHA, len(DATA))
    stored = artifacts.root / "sha256" / SHA[:2] / SHA
    assert artifacts.path(SHA) == stored
    assert stored.read_bytes() == DATA
    assert stat.S_IMODE(stored.stat().st_mode) == 0o400  # its owner reads it, nobody else
    assert list((artifacts.root / "tmp").iterdir()) == []


def test_put_file_streams_and_is_idempotent(artifacts: ArtifactStore, tmp_path: Path) -> None:
    source = tmp_path / "model.onnx"
    source.write_bytes(DATA * 300)  # > 1 MiB, so hashed in several chunks
    first = artifacts.put(source)
    assert first == hash_file(source)
    assert artifacts.put(source) == first
    assert artifacts.put(DATA * 300) == first
    assert len(list((artifacts.root / "sha256").rglob("*"))) == 2  # one dir, one file


def test_tampered_file_raises_naming_path_and_both_hashes(artifacts: ArtifactStore) -> None:
    artifacts.put(DATA)
    stored = artifacts.location(SHA)
    tamper(stored)
    with pytest.raises(ArtifactIntegrityError) as caught:
        artifacts.path(SHA)
    message = caught.value.message
    actual = hashlib.sha256(stored.read_bytes()).hexdigest()
    assert str(stored) in message and SHA in message and actual in message
    assert "bastion models verify" in message and "re-register" in message
    assert caught.value.details == {"path": str(stored), "expected": SHA, "actual": actual}


def test_size_mismatch_is_an_integrity_error(artifacts: ArtifactStore) -> None:
    artifacts.put(DATA)
    with pytest.raises(ArtifactIntegrityError, match="bytes, expected"):
        artifacts.path(SHA, expected_size=len(DATA) + 1)


def test_missing_file_is_an_integrity_error(artifacts: ArtifactStore) -> None:
    artifacts.put(DATA)
    artifacts.location(SHA).unlink()
    with pytest.raises(ArtifactIntegrityError, match="missing") as caught:
        artifacts.path(SHA)
    assert caught.value.details["actual"] is None


def test_putting_the_same_content_again_repairs_a_tampered_copy(artifacts: ArtifactStore) -> None:
    artifacts.put(DATA)
    tamper(artifacts.location(SHA))
    assert artifacts.put(DATA) == (SHA, len(DATA))
    assert artifacts.path(SHA).read_bytes() == DATA


@pytest.mark.parametrize("bad", ["../../etc/passwd", "ABC", SHA.upper(), SHA[:-1]])
def test_malformed_digests_are_refused(artifacts: ArtifactStore, bad: str) -> None:
    with pytest.raises(InvalidRequest, match="64 lowercase hex"):
        artifacts.path(bad)


def test_unreadable_source_is_an_invalid_request(artifacts: ArtifactStore, tmp_path: Path) -> None:
    with pytest.raises(InvalidRequest, match="cannot read artifact"):
        artifacts.put(tmp_path / "nope.onnx")
    with pytest.raises(InvalidRequest, match="cannot read artifact"):
        artifacts.put(tmp_path)
    assert list((artifacts.root / "tmp").iterdir()) == []
