"""Settings of the tamper-evident audit log and of encryption at rest."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr

from bastion.settings.core import Section


class AuditSettings(Section):
    """The hash-chained audit log: one record per model interaction and per admin change.

    ``timeout_s`` bounds how long a request waits for its record to be committed; past it
    (database down or stuck) the request is answered 503 ``overloaded`` instead.
    """

    enabled: bool = Field(True, description="record interactions and admin changes")
    payloads: bool = Field(
        True, description="store encrypted inputs/outputs (only when an encryption key is set)"
    )
    max_payload_bytes: int = Field(
        1_048_576, ge=0, description="larger payloads are not stored; their hashes still are"
    )
    max_batch: int = Field(512, ge=1, le=10_000, description="records per group commit")
    max_pending: int = Field(
        20_000, ge=1, description="records waiting for a commit; beyond: 503 overloaded"
    )
    timeout_s: float = Field(5.0, gt=0, le=120, description="longest wait for a commit")
    durability: Literal["fsync", "process"] = Field(
        "fsync",
        description="fsync: a record survives power loss before its answer is sent (one disk "
        "flush per batch); process: it survives any crash of Bastion, not of the machine",
    )


class EncryptionSettings(Section):
    """Keys for payloads stored at rest (audit payloads, review items, persisted cache).

    ``keys`` (``BASTION_ENCRYPTION_KEYS``) is a comma-separated list of ``id:base64key``
    (AES-256/192/128 keys); ``key_file`` (``BASTION_ENCRYPTION_KEY_FILE``) holds the same, one
    per line. The first key encrypts; every listed key decrypts.
    """

    keys: SecretStr | None = None
    key_file: Path | None = None
