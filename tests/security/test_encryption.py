"""The AES-GCM key ring: round trips, associated data, rotation, and clear errors."""

from __future__ import annotations

import base64
import os
from pathlib import Path

import pytest

from bastion.errors import ConfigError, DataIntegrityError
from bastion.security.encryption import Encryptor, generate_key, key_id_of, load_encryptor
from bastion.settings.audit import EncryptionSettings


def _key(byte: int = 1, size: int = 32) -> str:
    return base64.b64encode(bytes([byte]) * size).decode()


def test_round_trip_with_associated_data() -> None:
    ring = Encryptor.parse(f"k1:{_key()}")
    sealed = ring.encrypt(b"secret payload", b"item-1")
    assert b"secret payload" not in sealed
    assert key_id_of(sealed) == "k1"
    assert ring.decrypt(sealed, b"item-1") == b"secret payload"
    assert ring.encrypt(b"x") != ring.encrypt(b"x")  # random nonce per message


def test_moved_or_altered_ciphertext_fails_its_integrity_check() -> None:
    ring = Encryptor.parse(f"k1:{_key()}")
    sealed = ring.encrypt(b"payload", b"item-1")
    with pytest.raises(DataIntegrityError, match="moved from another record"):
        ring.decrypt(sealed, b"item-2")
    flipped = sealed[:-1] + bytes([sealed[-1] ^ 1])
    with pytest.raises(DataIntegrityError):
        ring.decrypt(flipped, b"item-1")
    with pytest.raises(DataIntegrityError, match="not a Bastion ciphertext"):
        ring.decrypt(b"plain text", b"")
    with pytest.raises(DataIntegrityError, match="truncated"):
        ring.decrypt(sealed[:20], b"item-1")


def test_rotation_new_key_encrypts_old_key_still_decrypts() -> None:
    old = Encryptor.parse(f"k1:{_key(1)}")
    sealed_old = old.encrypt(b"before rotation", b"a")
    # step 1: k2 added after k1 (decrypt-only) everywhere; step 2: k2 first (encrypts)
    rotated = Encryptor.parse(f"k2:{_key(2)},k1:{_key(1)}")
    assert rotated.active_key_id == "k2"
    assert rotated.decrypt(sealed_old, b"a") == b"before rotation"
    fresh = rotated.reencrypt(sealed_old, b"a")
    assert fresh is not None and key_id_of(fresh) == "k2"
    assert rotated.reencrypt(fresh, b"a") is None  # already under the active key
    only_new = Encryptor.parse(f"k2:{_key(2)}")
    assert only_new.decrypt(fresh, b"a") == b"before rotation"


def test_unknown_key_id_is_named() -> None:
    sealed = Encryptor.parse(f"old-key:{_key(1)}").encrypt(b"x")
    ring = Encryptor.parse(f"new-key:{_key(2)}")
    with pytest.raises(ConfigError, match=r"'old-key'.*not configured"):
        ring.decrypt(sealed)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("", "lists no keys"),
        ("nocolon", "id:base64key"),
        ("k1:not base64!!", "not valid base64"),
        (f"k1:{_key(size=20)}", "20 bytes"),
        (f"k1:{_key()},k1:{_key(2)}", "listed twice"),
        (f"bad id:{_key()}", "letters, digits"),
    ],
)
def test_bad_keys_are_config_errors(spec: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        Encryptor.parse(spec)


def test_accepts_urlsafe_base64_and_aes_128() -> None:
    key = os.urandom(16)
    ring = Encryptor.parse(f"k1:{base64.urlsafe_b64encode(key).decode()}")
    assert ring.decrypt(ring.encrypt(b"ok")) == b"ok"


def test_generate_key_makes_a_usable_ring() -> None:
    line = generate_key("prod-2026")
    ring = Encryptor.parse(line)
    assert ring.active_key_id == "prod-2026"
    assert ring.decrypt(ring.encrypt(b"z")) == b"z"
    with pytest.raises(ConfigError):
        generate_key("no spaces allowed")


def test_load_from_settings_env_or_file(tmp_path: Path) -> None:
    assert load_encryptor(EncryptionSettings()) is None
    from_env = load_encryptor(EncryptionSettings(keys=f"k1:{_key()}"))  # type: ignore[arg-type]
    assert from_env is not None and from_env.key_ids == ("k1",)
    key_file = tmp_path / "keys"
    key_file.write_text(f"# newest first\nk2:{_key(2)}\nk1:{_key(1)}\n")
    key_file.chmod(0o600)
    from_file = load_encryptor(EncryptionSettings(key_file=key_file))
    assert from_file is not None and from_file.key_ids == ("k2", "k1")
    with pytest.raises(ConfigError, match="cannot read the encryption key file"):
        load_encryptor(EncryptionSettings(key_file=tmp_path / "missing"))
    with pytest.raises(ConfigError, match="not both"):
        load_encryptor(EncryptionSettings(keys=f"k1:{_key()}", key_file=key_file))  # type: ignore[arg-type]


def test_short_env_names_reach_the_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    from bastion.settings import load_settings

    monkeypatch.setenv("BASTION_ENCRYPTION_KEYS", f"k1:{_key()}")
    settings = load_settings()
    assert settings.encryption.keys is not None
    assert load_encryptor(settings.encryption) is not None
