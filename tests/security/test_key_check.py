"""The encryption key check: the first key is recorded; a wrong, removed or missing key is a
one-line ConfigError naming the setting; the right ring passes (SQLite and PostgreSQL)."""

from __future__ import annotations

import base64

import pytest

from bastion.errors import ConfigError, DataIntegrityError
from bastion.security.encryption import Encryptor
from bastion.security.key_check import check_keys
from bastion.store import Database

K1 = "k1:" + base64.b64encode(b"\x01" * 32).decode()
K1_WRONG = "k1:" + base64.b64encode(b"\x02" * 32).decode()
K2 = "k2:" + base64.b64encode(b"\x03" * 32).decode()


async def test_keys_are_recorded_then_checked(database: Database) -> None:
    await check_keys(database, None)  # nothing stored, nothing configured: fine
    await check_keys(database, Encryptor.parse(K1))  # records k1's check
    await check_keys(database, Encryptor.parse(K1))  # and passes it again
    await check_keys(database, Encryptor.parse(f"{K2},{K1}"))  # rotation: k2 encrypts now
    with pytest.raises(ConfigError, match="key 'k1' is not the key") as wrong:
        await check_keys(database, Encryptor.parse(f"{K2},{K1_WRONG}"))
    assert "BASTION_ENCRYPTION_KEYS" in wrong.value.message and "\n" not in wrong.value.message
    with pytest.raises(ConfigError, match=r"key 'k1', which .* does not list"):
        await check_keys(database, Encryptor.parse(K2))
    with pytest.raises(ConfigError, match=r"key\(s\) k1, k2, but no encryption key"):
        await check_keys(database, None)


def test_a_failed_decryption_points_at_the_key_first() -> None:
    sealed = Encryptor.parse(K1).encrypt(b"x", b"aad")
    with pytest.raises(DataIntegrityError) as failed:
        Encryptor.parse(K1_WRONG).decrypt(sealed, b"aad")
    message = failed.value.message
    assert message.index("most likely that key is not the one") < message.index("altered")
