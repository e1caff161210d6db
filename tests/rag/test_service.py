"""Collections end to end on SQLite and PostgreSQL: index, re-index, delete, filters, tenants."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from bastion.errors import NotFound
from bastion.rag import RagService
from tests.rag.conftest import ADMIN, ALICE, BOB, principal

DOCS = {
    "cats.md": "# Cats\n\nCats are small carnivorous mammals that purr and chase mice.",
    "rockets.md": "# Rockets\n\nA rocket engine burns propellant to produce thrust into orbit.",
    "bread.md": "# Bread\n\nBread is baked from flour, water, yeast and salt in an oven.",
}


async def _index_all(svc: RagService, collection: str, docs: dict[str, str]) -> None:
    for name, text in docs.items():
        await svc.index(ALICE, collection, name, text.encode())


async def test_index_reindex_changed_and_deleted(services: Callable[..., RagService]) -> None:
    svc = services()
    await svc.create_collection(ALICE, "kb", policy={"strategy": "heading", "size": 300})
    await _index_all(svc, "kb", DOCS)

    top = await svc.retrieve("kb", "which animal purrs?", 1, None, ALICE)
    assert [c.document_id for c in top] == ["cats.md"]
    assert top[0].heading == "Cats" and "purr" in top[0].text

    docs_before = {d.doc_id: d for d in await svc.documents(ALICE, "kb")}
    # Again: one unchanged, one changed, one deleted.
    again = await svc.index(ALICE, "kb", "cats.md", DOCS["cats.md"].encode())
    changed = "# Rockets\n\nSailing boats use the wind in their sails to cross the sea."
    replaced = await svc.index(ALICE, "kb", "rockets.md", changed.encode())
    await svc.delete(ALICE, "kb", "bread.md")
    assert (again.outcome, replaced.outcome) == ("unchanged", "replaced")
    assert again.chunks == docs_before["cats.md"].chunks

    docs = {d.doc_id: d for d in await svc.documents(ALICE, "kb")}
    assert sorted(docs) == ["cats.md", "rockets.md"]
    assert docs["rockets.md"].content_sha256 == replaced.content_sha256
    assert docs["cats.md"].checked_at > docs["cats.md"].indexed_at  # confirmed current

    texts = [c.text for c in await svc.retrieve("kb", "rocket engine thrust", 10, None, ALICE)]
    assert not any("propellant" in t for t in texts)  # the old version is gone
    assert any("Sailing" in t for t in texts)
    found = await svc.retrieve("kb", "flour yeast oven baking", 10, None, ALICE)
    assert "bread.md" not in {c.document_id for c in found}


async def test_a_narrow_filter_still_returns_every_match(
    services: Callable[..., RagService],
) -> None:
    # The IVF path with one probe would miss most of the filtered documents; the search must
    # still return every chunk the filter allows.
    svc = services(ivf_min_rows=40, nprobe=1, exact_max_rows=1)
    await svc.create_collection(ALICE, "many", policy={"size": 2000})
    for i in range(120):
        lang = "fr" if i % 40 == 0 else "en"
        text = f"Note {i}: the weather report for district {i} says rain and wind."
        await svc.index(ALICE, "many", f"n{i}.txt", text.encode(), metadata={"lang": lang})
    await svc.wait_for_builds()
    await svc.follow_all()
    live = next(iter(svc._live.values()))
    assert live.index.mode == "ivf"

    found = await svc.retrieve("many", "a recipe for chocolate cake", 10, {"lang": "fr"}, ALICE)
    assert sorted(c.document_id for c in found) == ["n0.txt", "n40.txt", "n80.txt"]
    both = await svc.retrieve("many", "weather", 5, {"lang": ["fr", "de"]}, ALICE)
    assert len(both) == 3
    unfiltered = await svc.retrieve("many", "weather in district 7", 10, None, ALICE)
    assert len(unfiltered) == 10


async def test_a_tenant_never_retrieves_another_tenants_chunk(
    services: Callable[..., RagService],
) -> None:
    svc = services()
    await svc.create_collection(ADMIN, "common", shared=True)
    secret = "The acme merger closes on Friday at a price of 42 dollars per share."
    await svc.index(ALICE, "common", "acme.txt", secret.encode())
    await svc.index(BOB, "common", "globex.txt", b"Globex ships widgets every Tuesday.")
    await svc.index(ADMIN, "common", "policy.txt", b"Holidays: the office is closed.", shared=True)

    bob_sees = await svc.retrieve("common", secret, 10, None, BOB)
    assert {c.document_id for c in bob_sees} == {"globex.txt", "policy.txt"}
    alice_sees = await svc.retrieve("common", secret, 10, None, ALICE)
    assert alice_sees[0].document_id == "acme.txt"
    assert "globex.txt" not in {c.document_id for c in alice_sees}
    assert {d.doc_id for d in await svc.documents(BOB, "common")} == {"globex.txt", "policy.txt"}

    await svc.create_collection(ALICE, "private")
    with pytest.raises(NotFound):
        await svc.retrieve("private", "anything", 3, None, BOB)
    with pytest.raises(NotFound):
        await svc.index(BOB, "private", "x.txt", b"sneaking in")


async def test_access_lists_are_enforced_inside_the_query(
    services: Callable[..., RagService],
) -> None:
    svc = services()
    await svc.create_collection(ALICE, "hr")
    await svc.index(ALICE, "hr", "salaries.txt", b"Salary bands for 2027.", acl=["team:hr"])
    await svc.index(ALICE, "hr", "handbook.txt", b"The employee handbook.")
    hr = principal("acme", "client", key="k-hr", team="hr")
    dev = principal("acme", "client", key="k-dev", team="dev")
    assert {c.document_id for c in await svc.retrieve("hr", "salary", 5, None, hr)} == {
        "salaries.txt",
        "handbook.txt",
    }
    assert {c.document_id for c in await svc.retrieve("hr", "salary", 5, None, dev)} == {
        "handbook.txt"
    }


async def test_a_document_indexed_through_one_replica_is_found_through_another(
    services: Callable[..., RagService],
) -> None:
    one, two = services(poll_interval_s=0.05), services(poll_interval_s=0.05)
    two.start()  # follows the collections it holds
    await one.create_collection(ALICE, "shared-kb")
    await two.retrieve("shared-kb", "warm up an empty index", 3, None, ALICE)  # holds it now
    await one.index(ALICE, "shared-kb", "cats.md", DOCS["cats.md"].encode())
    await one.index(ALICE, "shared-kb", "bread.md", DOCS["bread.md"].encode())
    found: list[str] = []
    for _ in range(400):  # generous on a loaded machine; typically one poll interval
        found = [c.document_id for c in await two.retrieve("shared-kb", "purring", 1, None, ALICE)]
        if found == ["cats.md"]:
            break
        await asyncio.sleep(0.05)
    assert found == ["cats.md"]

    # A deletion takes effect at once on the other replica: before it has followed the
    # change, its result is re-read in the database and the deleted document left out.
    await two.aclose()  # no more following: only the database stands between
    await one.delete(ALICE, "shared-kb", "cats.md")
    after = await two.retrieve("shared-kb", "purring animal", 3, None, ALICE)
    assert [c.document_id for c in after] == ["bread.md"]


async def test_hybrid_search_finds_exact_terms_within_the_tenant(
    services: Callable[..., RagService],
) -> None:
    svc = services()
    await svc.create_collection(ADMIN, "parts", shared=True)
    for i in range(12):
        text = f"Maintenance guide {i}: check the pump seals and replace worn gaskets."
        await svc.index(ALICE, "parts", f"guide{i}.txt", text.encode())
    await svc.index(ALICE, "parts", "code.txt", b"Order spare part zx7731q for the valve.")
    await svc.index(BOB, "parts", "bob.txt", b"Globex also stocks zx7731q valves.")

    query = "which spare part zx7731q fits the pump"
    hybrid = await svc.retrieve("parts", query, 3, None, ALICE, hybrid=True)
    assert hybrid[0].document_id == "code.txt"
    assert "bob.txt" not in {c.document_id for c in hybrid}
    bob = await svc.retrieve("parts", "zx7731q", 5, None, BOB, hybrid=True)
    assert [c.document_id for c in bob] == ["bob.txt"]
