"""Operation records on SQLite and PostgreSQL: newest first, filtered, owned by tenants."""

from __future__ import annotations

from bastion.store import Database
from bastion.store.operations_tables import SqlOperationRecords


async def test_records_are_listed_newest_first_and_by_owner(database: Database) -> None:
    records = SqlOperationRecords(database)

    async def add(kind: str, subject: str, tenant: str | None) -> int:
        made = await records.add(
            kind,
            subject=subject,
            tenant=tenant,
            passed=True,
            summary=f"{kind} {subject}",
            details={"n": 1, "nested": {"ok": True}},
            actor="test",
        )
        return int(made["id"])

    shared = await add("backup", "b1", None)
    acme = await add("load_test", "chat", "acme")
    globex = await add("load_test", "chat", "globex")
    everything = await records.list()
    assert [r["id"] for r in everything] == [globex, acme, shared]
    assert everything[0]["details"] == {"n": 1, "nested": {"ok": True}}
    assert [r["id"] for r in await records.list(kind="load_test", subject="chat")] == [
        globex,
        acme,
    ]
    seen = await records.list(tenants=("acme", None))
    assert [r["id"] for r in seen] == [acme, shared]
    assert [r["id"] for r in await records.list(tenants=("acme",))] == [acme]
    assert [r["id"] for r in await records.list(limit=1)] == [globex]
