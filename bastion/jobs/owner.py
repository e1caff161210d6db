"""Who a job runs as: the key that created it, read again whenever the job (re)starts."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bastion.errors import Forbidden, NotFound
from bastion.jobs.scorer import JobHalted
from bastion.security import KeyStore, Principal


async def owner_of(
    keys: KeyStore, key_id: str, snapshot: dict[str, Any] | None, what: str
) -> Principal:
    """The owner's principal now. A revoked or expired key halts the work; a key not in the
    store (an identity-provider token) uses the principal recorded at creation."""
    try:
        key = await keys.get(key_id)
    except NotFound:
        if not isinstance(snapshot, dict):
            raise JobHalted(Forbidden(f"the key that created {what} is gone")) from None
        deployments = snapshot.get("deployments")
        return Principal(
            **{
                **snapshot,
                "roles": frozenset(snapshot["roles"]),
                "deployments": frozenset(deployments) if deployments is not None else None,
            }
        )
    if not key.active(datetime.now(UTC)):
        raise JobHalted(Forbidden(f"the key that created {what} was revoked or expired"))
    return key.principal()
