"""A collection as one process holds it: the vector index plus what it knows of each
document's visibility, following the collection's change log revision by revision."""

from __future__ import annotations

import asyncio
from collections import Counter

import numpy as np

from bastion.core.principal import Principal
from bastion.rag.feed import DIMENSIONS, LoadedDocument
from bastion.rag.index import IndexTuning, Mask, VectorIndex
from bastion.rag.store import RagStore
from bastion.rag.visibility import DocFacts, principal_entries


class LiveCollection:
    def __init__(self, collection_id: int, name: str, tuning: IndexTuning) -> None:
        self.id = collection_id
        self.name = name
        self.index = VectorIndex(DIMENSIONS, tuning)
        self.facts: dict[int, DocFacts] = {}
        self.revision = -1  # nothing loaded yet
        self.lock = asyncio.Lock()
        self._tenants: Counter[str | None] = Counter()
        self._with_acl = 0

    async def follow(self, store: RagStore) -> bool:
        """Catch up with the database; True when anything changed."""
        current = await store.revision(self.id)
        if current == self.revision:
            return False
        async with self.lock:
            if self.revision < 0:
                await self._load_all(store, current)
                return True
            changes = await store.changes(self.id, self.revision)
            if not changes:
                return False
            touched = list(dict.fromkeys(doc for _, doc in changes))
            for start in range(0, len(touched), 500):
                loaded = await store.load(touched[start : start + 500])
                for pk, doc in loaded.items():
                    self._apply(pk, doc)
            self.revision = max(self.revision, changes[-1][0])
            return True

    async def _load_all(self, store: RagStore, revision: int) -> None:
        async for batch in store.all_documents(self.id):
            for pk, doc in (await store.load(batch)).items():
                self._apply(pk, doc)
        # Changes committed while loading are read again at the next follow (idempotent).
        self.revision = revision

    def _apply(self, pk: int, doc: LoadedDocument | None) -> None:
        old = self.facts.pop(pk, None)
        if old is not None:
            self._tenants[old.tenant] -= 1
            self._with_acl -= old.acl is not None
        if doc is None:
            self.index.drop(pk)
            return
        self.facts[pk] = doc.facts
        self._tenants[doc.facts.tenant] += 1
        self._with_acl += doc.facts.acl is not None
        self.index.put(pk, doc.chunk_ids, doc.vectors)

    def mask(self, principal: Principal, filters: dict[str, frozenset[str]]) -> Mask | None:
        """The rows ``principal`` may retrieve under ``filters``; None: every row."""
        if not filters and (principal.is_admin or self._only_own(principal.tenant)):
            return None
        entries = principal_entries(principal)
        allowed = [pk for pk, f in self.facts.items() if f.visible_to(principal, entries, filters)]
        if not allowed:
            return np.zeros(0, dtype=np.bool_)
        return self.index.rows_of(allowed)

    def _only_own(self, tenant: str) -> bool:
        others = any(n > 0 and t not in (None, tenant) for t, n in self._tenants.items())
        return not others and self._with_acl == 0
