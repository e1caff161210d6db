"""Sealing review payloads: encrypted with the app's key, or PII-scrubbed when there is none."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

import orjson

from bastion.errors import ConfigError


class Encryptor(Protocol):
    """The slice of ``bastion.security.encryption.Encryptor`` the queue uses."""

    def encrypt(self, data: bytes, aad: bytes = b"") -> bytes: ...

    def decrypt(self, data: bytes, aad: bytes = b"") -> bytes: ...


Scrub = Callable[[Any], Any]


class PayloadCodec:
    """Turns JSON values into stored bytes and back; the item id is bound as associated data.

    With an encryptor, payloads are encrypted (a ciphertext moved to another item fails to
    open). Without one, raw PII is never stored: strings are scrubbed (``[EMAIL]``, ...) before
    they are written, and reviewers and exports see the scrubbed text.
    """

    def __init__(self, encryptor: Encryptor | None, scrub: Scrub | None) -> None:
        self._encryptor = encryptor
        self._scrub = scrub

    @property
    def encrypts(self) -> bool:
        return self._encryptor is not None

    def seal(self, item_id: str, value: Any) -> bytes:
        if self._encryptor is not None:
            return self._encryptor.encrypt(_dumps(value), item_id.encode())
        clean = self._scrub(value) if self._scrub is not None else value
        return _dumps(clean)

    def open(self, item_id: str, blob: bytes | None, encrypted: bool) -> Any:
        if blob is None:
            return None
        if encrypted:
            if self._encryptor is None:
                raise ConfigError(
                    f"review item {item_id} is encrypted but no encryption key is configured; "
                    "start Bastion with the key it was written with"
                )
            blob = self._encryptor.decrypt(blob, item_id.encode())
        return orjson.loads(blob)


def _dumps(value: Any) -> bytes:
    return orjson.dumps(value, option=orjson.OPT_SERIALIZE_NUMPY)
