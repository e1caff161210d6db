"""RagService: create collections, index and delete documents, search them — with the
tenant and access rules inside every query — and ``retrieve`` for prompt templates."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import structlog
from sqlalchemy.exc import SQLAlchemyError

from bastion.core.ownership import Ownership
from bastion.core.principal import Principal
from bastion.errors import Conflict, InvalidRequest, NotFound
from bastion.rag.base import ChunkPolicy, Citation, Collection, DocumentInfo, IndexResult
from bastion.rag.chunking import chunk_text
from bastion.rag.freshness import Freshness
from bastion.rag.index import IndexTuning, Matrix
from bastion.rag.keyword import fuse, keyword_hits
from bastion.rag.live import LiveCollection
from bastion.rag.parsing import media_type_of, parse
from bastion.rag.store import NewDocument, RagStore
from bastion.rag.visibility import check_acl, parse_filters
from bastion.settings.rag import RagSettings
from bastion.store import Database

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry

    from bastion.observability.sinks import AlertSink

log = structlog.get_logger(__name__)

Encode = Callable[[Sequence[str]], Matrix]
_NAME = r"^[a-z0-9][a-z0-9._-]{0,62}$"


class RagService:
    def __init__(
        self,
        settings: RagSettings,
        db: Database,
        encode: Encode,
        *,
        ownership: Ownership | None = None,
        alerts: AlertSink | None = None,
        registry: CollectorRegistry | None = None,
    ) -> None:
        self.settings = settings
        self.store = RagStore(db)
        self._encode = encode
        self._ownership = ownership or Ownership()
        self._tuning = IndexTuning(
            ivf_min_rows=settings.ivf_min_rows,
            nprobe=settings.nprobe,
            exact_max_rows=settings.exact_max_rows,
        )
        self._live: dict[int, LiveCollection] = {}
        self._builds: set[asyncio.Task[Any]] = set()
        self._poller: asyncio.Task[None] | None = None
        self.freshness = Freshness(
            self.store, settings.freshness_interval_s, alerts=alerts, registry=registry
        )

    # -- collections -----------------------------------------------------------------------

    async def create_collection(
        self,
        principal: Principal,
        name: str,
        *,
        policy: Mapping[str, Any] | None = None,
        staleness_target_s: float | None = None,
        tenant: str | None = None,
        shared: bool = False,
    ) -> Collection:
        import re

        if not re.match(_NAME, name):
            raise InvalidRequest(
                f"collection name {name!r}: use 1-63 lowercase letters, digits, '.', '_', '-'",
                details={"field": "name"},
            )
        if staleness_target_s is not None and staleness_target_s <= 0:
            raise InvalidRequest(
                "staleness_target_s: a positive number of seconds",
                details={"field": "staleness_target_s"},
            )
        chosen = ChunkPolicy.parse(policy)
        owner = self._ownership.owner_for_new(principal, tenant, shared)
        return await self.store.create_collection(
            name, owner, chosen, staleness_target_s, principal.name
        )

    async def collection(self, principal: Principal, name: str) -> Collection:
        """The collection ``principal`` may see (another tenant's: 404, as absent)."""
        found = await self.store.collection(name)
        owner = found.tenant if found is not None else None
        if found is None or not self._ownership.visible(principal, owner):
            raise NotFound(
                f"no collection named '{name}' visible to key '{principal.name}'; create it "
                "with POST /v1/admin/rag/collections or `bastion rag create`"
            )
        return found

    async def collections(self, principal: Principal) -> list[Collection]:
        return [
            c
            for c in await self.store.collections()
            if self._ownership.visible(principal, c.tenant)
        ]

    async def _writable(self, principal: Principal, name: str) -> Collection:
        """A collection ``principal`` may index into: its tenant's, or a shared one (where it
        adds its own tenant's documents)."""
        found = await self.collection(principal, name)
        if found.tenant is not None:
            self._ownership.require_change(principal, found.tenant, f"collection '{name}'")
        return found

    def _require_document(
        self, principal: Principal, name: str, doc_id: str, tenant: str | None
    ) -> None:
        """Another tenant's document is answered as absent; a shared one needs an operator
        of shared objects."""
        what = f"document '{doc_id}' in collection '{name}'"
        self._ownership.require_change(principal, tenant, what)

    # -- documents -------------------------------------------------------------------------

    async def index(
        self,
        principal: Principal,
        collection: str,
        doc_id: str,
        data: bytes,
        *,
        filename: str | None = None,
        media_type: str | None = None,
        source: str = "",
        metadata: Mapping[str, Any] | None = None,
        acl: Sequence[str] | None = None,
        shared: bool = False,
    ) -> IndexResult:
        """Index one document: skipped when its content hash is unchanged (it is marked
        current), replaced when it changed, added when new."""
        found = await self._writable(principal, collection)
        if not doc_id or len(doc_id) > 500:
            raise InvalidRequest("doc_id: 1-500 characters", details={"field": "doc_id"})
        kind = media_type_of(filename or doc_id, media_type)
        meta = dict(metadata or {})
        access = check_acl(acl)
        digest = hashlib.sha256(data).hexdigest()
        tenant = self._document_tenant(principal, found, shared)
        held = await self.store.current(found.id, doc_id)
        if held is not None:
            self._require_document(principal, collection, doc_id, held[2])
            if held[2] != tenant:
                raise Conflict(
                    f"document '{doc_id}' of collection '{collection}' belongs to "
                    f"{'every tenant' if held[2] is None else 'another tenant'}; index yours "
                    "under another doc_id"
                )
        if held is not None and held[1] == digest:
            await self.store.touch(held[0], source or doc_id)
            return IndexResult(doc_id, "unchanged", held[3], digest)
        text = await asyncio.to_thread(parse, data, kind, doc_id)
        chunks = chunk_text(text, found.policy)
        vectors = await self.embed([c.text for c in chunks])
        doc = NewDocument(
            doc_id, tenant, source or doc_id, kind, digest, meta, access, principal.name
        )
        _, replaced = await self.store.write(found.id, doc, chunks, vectors)
        await self._follow(found.id, found.name)
        log.info("rag_document_indexed", collection=collection, doc=doc_id, chunks=len(chunks))
        return IndexResult(doc_id, "replaced" if replaced else "indexed", len(chunks), digest)

    def _document_tenant(self, principal: Principal, found: Collection, shared: bool) -> str | None:
        """A tenant's collection holds its tenant's documents; in a shared collection a
        document belongs to its indexer's tenant, or to every tenant with ``shared``."""
        if found.tenant is not None:
            return found.tenant
        if shared:
            self._ownership.require_change(principal, None, "a document shared by every tenant")
            return None
        return principal.tenant

    async def embed(self, texts: Sequence[str]) -> Matrix:
        """Unit vectors of ``texts``, encoded ``embed_batch`` at a time in a worker thread."""
        batch = self.settings.embed_batch
        out = np.zeros((len(texts), 384), dtype=np.float32)
        for start in range(0, len(texts), batch):
            part = list(texts[start : start + batch])
            out[start : start + len(part)] = await asyncio.to_thread(self._encode, part)
        return out

    async def delete(self, principal: Principal, collection: str, doc_id: str) -> None:
        """Delete a document: no search, on any replica, returns it from now on."""
        found = await self._writable(principal, collection)
        held = await self.store.current(found.id, doc_id)
        absent = NotFound(f"collection '{collection}' has no document '{doc_id}'")
        if held is None:
            raise absent
        if not self._ownership.visible(principal, held[2]):
            raise absent
        self._require_document(principal, collection, doc_id, held[2])
        if not await self.store.delete(found.id, doc_id):
            raise absent
        await self._follow(found.id, found.name)

    async def documents(
        self, principal: Principal, collection: str, *, limit: int = 100, after: str | None = None
    ) -> list[DocumentInfo]:
        found = await self.collection(principal, collection)
        return await self.store.documents(found, principal, min(max(limit, 1), 1000), after)

    # -- search ----------------------------------------------------------------------------

    async def retrieve(
        self,
        collection: str,
        query: str,
        k: int,
        filters: Mapping[str, Any] | None,
        principal: Principal,
        *,
        hybrid: bool = False,
    ) -> Sequence[Citation]:
        """The ``k`` chunks of ``collection`` nearest ``query`` that ``principal`` may read
        and ``filters`` select (the ``Retriever`` protocol). ``hybrid`` fuses a keyword
        (full-text) ranking with the vector one; the score is then the fused score."""
        if not isinstance(query, str) or not query.strip():
            raise InvalidRequest("query: a non-empty string", details={"field": "query"})
        found = await self.collection(principal, collection)
        vector = (await self.embed([query]))[0]
        keyword = query if hybrid else None
        return await self.search_vector(principal, found, vector, k, filters, keyword=keyword)

    async def search_vector(
        self,
        principal: Principal,
        found: Collection,
        vector: Matrix,
        k: int,
        filters: Mapping[str, Any] | None = None,
        *,
        keyword: str | None = None,
    ) -> list[Citation]:
        """Search by a query vector (what the benchmark times: no embedding); with
        ``keyword`` text, fused with its full-text ranking."""
        if not 1 <= k <= self.settings.max_k:
            raise InvalidRequest(f"k: 1-{self.settings.max_k}", details={"field": "k"})
        wanted = parse_filters(filters)
        live = self._live.get(found.id)
        if live is None or live.revision < 0:  # first use here: load it
            live = await self._follow(found.id, found.name)
        for attempt in range(2):
            mask = live.mask(principal, wanted)
            wide = k if keyword is None else min(4 * k, self.settings.max_k * 4)
            if live.index.slow:  # keep the loop free
                hits = await asyncio.to_thread(live.index.search, vector, wide, mask)
            else:
                hits = live.index.search(vector, wide, mask)
            if keyword is not None:
                words = await keyword_hits(
                    self.store.db, found.id, keyword, principal, wanted, wide
                )
                hits = fuse(hits, words, self.settings.keyword_weight, k)
            rows = await self.store.fetch(found.id, [c for c, _ in hits], principal, wanted)
            if len(rows) == len(hits) or attempt:
                break
            await live.follow(self.store)  # changed meanwhile on another replica: catch up
        return [
            Citation(
                found.name,
                rows[c].doc_id,
                c,
                rows[c].ordinal,
                rows[c].text,
                round(score, 6 if keyword is None else 8),
                rows[c].heading,
                rows[c].source,
                rows[c].meta,
            )
            for c, score in hits
            if c in rows
        ]

    # -- keeping in step -------------------------------------------------------------------

    async def _follow(self, collection_id: int, name: str) -> LiveCollection:
        live = self._live.get(collection_id)
        if live is None:
            live = self._live.setdefault(
                collection_id, LiveCollection(collection_id, name, self._tuning)
            )
        if await live.follow(self.store) and live.index.needs_ivf():
            task = asyncio.create_task(asyncio.to_thread(live.index.build_ivf))
            self._builds.add(task)
            task.add_done_callback(self._builds.discard)
        return live

    async def follow_all(self) -> None:
        """Bring every collection's index up to date (tests, benchmarks, start-up)."""
        for c in await self.store.collections():
            await self._follow(c.id, c.name)

    async def wait_for_builds(self) -> None:
        while self._builds:
            await asyncio.gather(*list(self._builds))

    async def _poll(self) -> None:
        """Follow the collections this process holds: new documents from other replicas
        arrive within ``poll_interval_s`` (deleted ones are never returned, at once: every
        result is re-read in the database)."""
        while True:
            for live in list(self._live.values()):
                try:
                    await self._follow(live.id, live.name)
                except (SQLAlchemyError, OSError) as exc:
                    log.warning("rag_follow_failed", collection=live.name, error=repr(exc))
            await asyncio.sleep(self.settings.poll_interval_s)

    def start(self) -> None:
        self.freshness.start()
        if self._poller is None:
            self._poller = asyncio.create_task(self._poll(), name="rag-follow")

    async def aclose(self) -> None:
        await self.freshness.aclose()
        if self._poller is not None:
            self._poller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._poller
            self._poller = None
        for task in list(self._builds):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
