"""Encryption at rest: an AES-GCM key ring whose ciphertexts name their key, so keys rotate live.

A ciphertext is ``BE 01 | len(key id) | key id | 12-byte random nonce | AES-GCM(data) + tag``;
the header is authenticated with the caller's associated data. The first key of the ring
encrypts; every key of the ring decrypts, so a new key can be added everywhere first, then made
the encrypting one, and the old one removed once stored payloads are re-encrypted.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
import secrets
from collections.abc import Sequence
from typing import TYPE_CHECKING

import structlog

from bastion.errors import ConfigError, DataIntegrityError
from bastion.settings.audit import EncryptionSettings

log = structlog.get_logger(__name__)

MAGIC = b"\xbe\x01"
NONCE_BYTES = 12
_KEY_ID = re.compile(r"^[A-Za-z0-9._-]{1,32}$")
_KEY_SIZES = (16, 24, 32)
_HOWTO = "generate one with `bastion audit gen-key` (it prints id:base64key)"

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM


class Encryptor:
    """A ring of named AES-GCM keys: ``encrypt`` with the first, ``decrypt`` with any."""

    def __init__(self, keys: Sequence[tuple[str, bytes]]) -> None:
        if not keys:
            raise ConfigError(f"an encryption key ring needs at least one key; {_HOWTO}")
        # cryptography loads with the first key ring: a server without encryption never does
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        self._ring: dict[str, AESGCM] = {}
        for key_id, key in keys:
            if not _KEY_ID.match(key_id):
                raise ConfigError(
                    f"encryption key id {key_id!r} must be 1-32 letters, digits, '.', '_' or '-'"
                )
            if key_id in self._ring:
                raise ConfigError(f"encryption key id {key_id!r} is listed twice; ids are unique")
            if len(key) not in _KEY_SIZES:
                raise ConfigError(
                    f"encryption key {key_id!r} is {len(key)} bytes; AES-GCM needs 16, 24 or 32 "
                    f"(32 recommended); {_HOWTO}"
                )
            self._ring[key_id] = AESGCM(key)
        self._active = keys[0][0]
        self._header = _header(self._active)

    @property
    def active_key_id(self) -> str:
        """The id of the key that encrypts."""
        return self._active

    @property
    def key_ids(self) -> tuple[str, ...]:
        return tuple(self._ring)

    def encrypt(self, data: bytes, aad: bytes = b"") -> bytes:
        """Seal ``data`` under the active key; ``aad`` must be given again to decrypt."""
        nonce = secrets.token_bytes(NONCE_BYTES)
        sealed = self._ring[self._active].encrypt(nonce, data, self._header + aad)
        return self._header + nonce + sealed

    def decrypt(self, data: bytes, aad: bytes = b"") -> bytes:
        """Open a ciphertext made by any key of the ring with the same ``aad``."""
        key_id, body_at = _parse_header(data)
        aead = self._ring.get(key_id)
        if aead is None:
            raise ConfigError(
                f"this data was encrypted with key {key_id!r}, which is not configured "
                f"(configured: {', '.join(self._ring)}); add it back to BASTION_ENCRYPTION_KEYS "
                "or the key file (after the encrypting key) to read it"
            )
        nonce = data[body_at : body_at + NONCE_BYTES]
        from cryptography.exceptions import InvalidTag

        try:
            return aead.decrypt(nonce, data[body_at + NONCE_BYTES :], data[:body_at] + aad)
        except InvalidTag as exc:
            raise DataIntegrityError(
                f"encrypted data under key {key_id!r} does not decrypt with the configured key "
                f"{key_id!r}: most likely that key is not the one this data was written with "
                "(compare BASTION_ENCRYPTION_KEYS or the key file with the other servers'); "
                "if the key is right, the stored bytes were altered, truncated or moved from "
                "another record"
            ) from exc

    def encrypt_with(self, key_id: str, data: bytes, aad: bytes = b"") -> bytes:
        """Seal ``data`` under key ``key_id`` of the ring (not necessarily the active one)."""
        nonce = secrets.token_bytes(NONCE_BYTES)
        header = _header(key_id)
        return header + nonce + self._ring[key_id].encrypt(nonce, data, header + aad)

    def reencrypt(self, data: bytes, aad: bytes = b"") -> bytes | None:
        """The same plaintext under the active key, or None if it already is."""
        if key_id_of(data) == self._active:
            return None
        return self.encrypt(self.decrypt(data, aad), aad)

    @classmethod
    def parse(cls, spec: str, *, source: str = "BASTION_ENCRYPTION_KEYS") -> Encryptor:
        """A ring from ``id:base64key`` entries separated by commas or newlines."""
        entries = [e.strip() for e in re.split(r"[,\n]", spec)]
        entries = [e for e in entries if e and not e.startswith("#")]
        if not entries:
            raise ConfigError(f"{source} lists no keys; {_HOWTO}")
        return cls([_parse_entry(e, source) for e in entries])


def key_id_of(data: bytes) -> str:
    """The id of the key a ciphertext was made with (no key needed)."""
    return _parse_header(data)[0]


def generate_key(key_id: str | None = None) -> str:
    """A new random 256-bit key as ``id:base64key``."""
    kid = key_id or "k" + secrets.token_hex(4)
    if not _KEY_ID.match(kid):
        raise ConfigError(f"key id {kid!r} must be 1-32 letters, digits, '.', '_' or '-'")
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    return f"{kid}:{base64.b64encode(AESGCM.generate_key(bit_length=256)).decode()}"


def load_encryptor(settings: EncryptionSettings) -> Encryptor | None:
    """The configured ring, or None when no key is configured. Bad keys are a ConfigError."""
    if settings.keys is not None and settings.key_file is not None:
        raise ConfigError(
            "set either BASTION_ENCRYPTION_KEYS or BASTION_ENCRYPTION_KEY_FILE, not both"
        )
    if settings.keys is not None:
        return Encryptor.parse(settings.keys.get_secret_value())
    if settings.key_file is None:
        return None
    path = settings.key_file
    try:
        text = path.read_text(encoding="utf-8")
        mode = path.stat().st_mode
    except OSError as exc:
        raise ConfigError(
            f"cannot read the encryption key file {path}: {exc.strerror}; fix the path or "
            "its permissions"
        ) from exc
    if mode & 0o077 and os.name == "posix":
        log.warning("encryption_key_file_exposed", path=str(path), mode=oct(mode & 0o777))
    return Encryptor.parse(text, source=f"key file {path}")


def _header(key_id: str) -> bytes:
    raw = key_id.encode("ascii")
    return MAGIC + bytes([len(raw)]) + raw


def _parse_header(data: bytes) -> tuple[str, int]:
    if len(data) < len(MAGIC) + 1 or data[: len(MAGIC)] != MAGIC:
        raise DataIntegrityError("this is not a Bastion ciphertext (bad header)")
    size = data[len(MAGIC)]
    body_at = len(MAGIC) + 1 + size
    if size == 0 or len(data) < body_at + NONCE_BYTES + 16:
        raise DataIntegrityError("this Bastion ciphertext is truncated")
    try:
        key_id = data[len(MAGIC) + 1 : body_at].decode("ascii")
    except UnicodeDecodeError as exc:
        raise DataIntegrityError("this Bastion ciphertext has a corrupt key id") from exc
    return key_id, body_at


def _parse_entry(entry: str, source: str) -> tuple[str, bytes]:
    key_id, sep, encoded = entry.partition(":")
    key_id = key_id.strip()
    if not sep or not key_id:
        raise ConfigError(f"{source}: each key must look like id:base64key; {_HOWTO}")
    raw = encoded.strip()
    urlsafe = "-" in raw or "_" in raw
    try:
        key = base64.b64decode(raw, altchars=b"-_" if urlsafe else None, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ConfigError(f"{source}: key {key_id!r} is not valid base64; {_HOWTO}") from exc
    return key_id, key
