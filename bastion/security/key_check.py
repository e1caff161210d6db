"""The encryption key check: refuse to start with keys that cannot open what the database holds.

Each key that writes data leaves a known value sealed under it in ``encryption_key_checks``
(written at the first start with that key as the encrypting one). At every start each stored
check must open with the configured ring; a missing, wrong or removed key is a ConfigError that
names the setting and the fix, before any request is served.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from bastion.errors import ConfigError, DataIntegrityError
from bastion.security.encryption import Encryptor
from bastion.store import Database
from bastion.store.security_tables import EncryptionKeyCheckRow
from bastion.store.tables import utcnow

KNOWN = b"bastion encryption key check v1"
AAD = b"bastion:encryption-key-check"
SETTING = "BASTION_ENCRYPTION_KEYS (or BASTION_ENCRYPTION_KEY_FILE)"


async def check_keys(db: Database, encryptor: Encryptor | None) -> None:
    """ConfigError unless every stored key check opens with ``encryptor``; then record the
    check of the encrypting key if it has none yet."""
    async with db.session() as session:
        rows = list(await session.scalars(select(EncryptionKeyCheckRow)))
    stored = sorted(r.key_id for r in rows)
    if encryptor is None:
        if stored:
            raise ConfigError(
                f"this database holds data encrypted with key(s) {', '.join(stored)}, but no "
                f"encryption key is configured: set {SETTING} to the keys the server wrote it "
                "with (`bastion audit gen-key` makes new ones only for new data)"
            )
        return
    for row in rows:
        _verify(encryptor, row)
    if encryptor.active_key_id not in stored:
        await _record(db, encryptor)


def _verify(encryptor: Encryptor, row: EncryptionKeyCheckRow) -> None:
    if row.key_id not in encryptor.key_ids:
        raise ConfigError(
            f"this database holds data encrypted with key {row.key_id!r}, which {SETTING} does "
            f"not list (configured: {', '.join(encryptor.key_ids)}); add it back after the "
            "encrypting key. Only once no stored record uses it any more (every record "
            "re-encrypted) delete its row from encryption_key_checks"
        )
    try:
        opened = encryptor.decrypt(row.sealed, AAD)
    except DataIntegrityError:
        opened = None
    if opened != KNOWN:
        raise ConfigError(
            f"{SETTING}: key {row.key_id!r} is not the key this database's data was encrypted "
            f"with under that id (its key check does not decrypt): the configured key is wrong, "
            "the data is not. Set the key the other servers use for this database"
        )


async def _record(db: Database, encryptor: Encryptor) -> None:
    key_id = encryptor.active_key_id
    row = EncryptionKeyCheckRow(
        key_id=key_id, sealed=encryptor.encrypt_with(key_id, KNOWN, AAD), created_at=utcnow()
    )
    async with db.session() as session:
        session.add(row)
        try:
            await session.commit()
        except IntegrityError:  # another process recorded it first: check that one
            await session.rollback()
            async with db.session() as again:
                found = await again.get(EncryptionKeyCheckRow, key_id)
            if found is not None:
                _verify(encryptor, found)
