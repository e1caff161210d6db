"""KeyStore on SQLite and PostgreSQL: teams, metadata, expiry, rotation with grace, revoke."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bastion.errors import Conflict, InvalidRequest, NotFound
from bastion.security import KeyStore, hash_key
from bastion.store import Database


async def test_create_stores_only_the_hash_and_resolves_the_principal(database: Database) -> None:
    keys = KeyStore(database)
    secret, key = await keys.create(
        "svc",
        ["client"],
        deployments=["iris"],
        tenant="acme",
        team="search",
        metadata={"owner": "ana", "cost_center": 42},
    )
    assert secret.startswith("bst_") and len(secret) >= 40  # 256 random bits, url-safe
    assert key.prefix == secret[:10] and key.team == "search"
    found = await keys.find(secret)
    assert found is not None and found.metadata == {"owner": "ana", "cost_center": 42}
    principal = found.principal()
    assert (principal.tenant, principal.team, principal.deployments) == (
        "acme",
        "search",
        frozenset({"iris"}),
    )
    assert await keys.find(hash_key(secret)) is None  # the stored hash is not a key
    listed = await keys.list(tenant="acme", team="search")
    assert [k.id for k in listed] == [key.id]
    assert await keys.list(tenant="other") == []


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"roles": ["emperor"]}, "roles"),
        ({"roles": []}, "roles"),
        ({"tenant": "acme corp"}, "tenant"),
        ({"team": "x" * 101}, "team"),
        ({"expires_at": datetime(2000, 1, 1, tzinfo=UTC)}, "expires_at"),
        ({"metadata": {"blob": "x" * 5000}}, "metadata"),
    ],
)
async def test_invalid_keys_are_refused_with_the_field(
    database: Database, kwargs: dict[str, object], field: str
) -> None:
    args: dict[str, object] = {"roles": ["client"], **kwargs}
    roles = args.pop("roles")
    with pytest.raises(InvalidRequest) as caught:
        await KeyStore(database).create("x", roles, **args)  # type: ignore[arg-type]
    assert caught.value.details["field"] == field


async def test_expired_key_is_inactive(database: Database) -> None:
    keys = KeyStore(database)
    soon = datetime.now(UTC) + timedelta(seconds=30)
    secret, _ = await keys.create("temp", ["client"], expires_at=soon)
    found = await keys.find(secret)
    assert found is not None
    assert found.active(datetime.now(UTC))
    assert not found.active(soon + timedelta(seconds=1))


async def test_rotate_keeps_grants_and_gives_the_old_key_a_grace_period(
    database: Database,
) -> None:
    keys = KeyStore(database)
    old_secret, old = await keys.create(
        "svc", ["client"], deployments=["iris"], tenant="acme", team="t1", metadata={"a": 1}
    )
    before = datetime.now(UTC)
    new_secret, new = await keys.rotate(old.id, grace_s=3600)
    assert new_secret != old_secret and new.id != old.id
    assert (new.roles, new.deployments, new.tenant, new.team, dict(new.metadata)) == (
        ("client",),
        ("iris",),
        "acme",
        "t1",
        {"a": 1},
    )
    rotated = await keys.find(old_secret)
    assert rotated is not None and rotated.replaced_by == new.id
    assert rotated.expires_at is not None
    assert (
        before + timedelta(seconds=3590)
        < rotated.expires_at
        <= datetime.now(UTC) + timedelta(seconds=3600)
    )
    assert rotated.active(datetime.now(UTC))  # still valid during the grace period
    assert not rotated.active(rotated.expires_at + timedelta(seconds=1))
    with pytest.raises(Conflict, match="already rotated"):
        await keys.rotate(old.id)
    third_secret, third = await keys.rotate(new.id, grace_s=0)
    assert (await keys.get(new.id)).replaced_by == third.id
    assert await keys.find(third_secret) is not None


async def test_rotation_never_extends_an_earlier_expiry(database: Database) -> None:
    keys = KeyStore(database)
    ends = datetime.now(UTC) + timedelta(minutes=5)
    _, old = await keys.create("svc", ["client"], expires_at=ends)
    _, new = await keys.rotate(old.id, grace_s=86400)
    assert (await keys.get(old.id)).expires_at == ends
    assert new.expires_at == ends  # the new key keeps the same end of life


async def test_revoked_or_unknown_keys_cannot_be_rotated_or_revoked_twice(
    database: Database,
) -> None:
    keys = KeyStore(database)
    _, key = await keys.create("svc", ["client"])
    await keys.revoke(key.id)
    with pytest.raises(NotFound):
        await keys.rotate(key.id)
    with pytest.raises(NotFound):
        await keys.revoke(key.id)
    with pytest.raises(NotFound):
        await keys.get("key_missing")
    with pytest.raises(InvalidRequest):
        await keys.rotate(key.id, grace_s=-1)


async def test_any_admin_ignores_revoked_and_expired_admins(database: Database) -> None:
    keys = KeyStore(database)
    assert not await keys.any_admin()
    _, admin = await keys.create("root", ["admin"])
    assert await keys.any_admin()
    await keys.revoke(admin.id)
    assert not await keys.any_admin()
