"""The in-process vector index of one collection, kept in step with its rows in the database.

Rows (chunks) live at positions in growing numpy arrays; a replaced or deleted document's
rows are marked dead at once and dropped by compaction later. Search is exact (numpy, over the
rows a filter allows) while the collection is small or the filter narrow; above
``ivf_min_rows`` an IVF index (faiss, inner product on unit vectors) built in the background
covers the rows up to its snapshot, and rows added since are searched exactly. A filter is a
mask *inside* the search (faiss's ID selector), never a cut of a fixed top-k afterwards, and a
search that finds fewer than ``k`` of the rows a filter allows falls back to exact search: it
never returns fewer results than exist.
"""

from __future__ import annotations

import importlib.util
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

Matrix = np.ndarray[Any, np.dtype[np.float32]]
Mask = np.ndarray[Any, np.dtype[np.bool_]]
Ids = np.ndarray[Any, np.dtype[np.int64]]

HAVE_FAISS = importlib.util.find_spec("faiss") is not None


@dataclass(frozen=True, slots=True)
class IndexTuning:
    ivf_min_rows: int = 20_000  # below this, exact search only
    nprobe: int = 32  # IVF lists probed per query
    exact_max_rows: int = 4_096  # a filter allowing at most this many rows: exact search
    compact_dead_share: float = 0.3  # compact once this share of rows is dead


class VectorIndex:
    """Chunks of one collection: ``put`` a document's chunks, ``drop`` it, ``search``.

    Mutations come from the event loop; searches may run in worker threads. A search takes
    the lock only to read the current arrays: appends and compaction build new arrays or write
    past the rows a reader holds, so readers never see a half-written row.
    """

    def __init__(self, dimensions: int, tuning: IndexTuning | None = None) -> None:
        self.dimensions = dimensions
        self.tuning = tuning or IndexTuning()
        self._lock = threading.Lock()
        self._vectors: Matrix = np.zeros((0, dimensions), dtype=np.float32)
        self._chunk: Ids = np.zeros(0, dtype=np.int64)
        self._doc: Ids = np.zeros(0, dtype=np.int64)
        self._alive: Mask = np.zeros(0, dtype=np.bool_)
        self._n = 0
        self._dead = 0
        self._rows: dict[int, Ids] = {}  # document → its rows
        self._ivf: Any = None
        self._ivf_rows = 0  # rows [0, _ivf_rows) are in the IVF index
        self._layout = 0  # bumped by compaction: an IVF built on an older layout is dropped
        self._building = False
        self._blas: Any = None

    # -- state -----------------------------------------------------------------------------

    @property
    def size(self) -> int:
        """Live rows."""
        return self._n - self._dead

    @property
    def documents(self) -> int:
        return len(self._rows)

    @property
    def slow(self) -> bool:
        """Whether a search may take milliseconds (exact over many rows): run it in a
        worker thread; an IVF search (well under a millisecond) runs inline."""
        return self._ivf is None and self.size > self.tuning.exact_max_rows

    @property
    def mode(self) -> str:
        return "ivf" if self._ivf is not None else "exact"

    def rows_of(self, documents: Sequence[int]) -> Mask:
        """A mask over the current rows: those of ``documents``."""
        with self._lock:
            doc = self._doc[: self._n]
        return np.isin(doc, np.fromiter(documents, dtype=np.int64, count=len(documents)))

    # -- changes ---------------------------------------------------------------------------

    def put(self, document: int, chunk_ids: Sequence[int], vectors: Matrix) -> None:
        """Replace ``document``'s chunks with these (unit-length rows)."""
        self.drop(document)
        m = len(chunk_ids)
        if m == 0:
            return
        with self._lock:
            self._reserve(self._n + m)
            at = self._n
            self._vectors[at : at + m] = vectors
            self._chunk[at : at + m] = np.asarray(chunk_ids, dtype=np.int64)
            self._doc[at : at + m] = document
            self._alive[at : at + m] = True
            self._rows[document] = np.arange(at, at + m, dtype=np.int64)
            self._n += m

    def drop(self, document: int) -> None:
        """Forget ``document``'s chunks (searches stop returning them at once)."""
        with self._lock:
            rows = self._rows.pop(document, None)
            if rows is not None:
                self._alive[rows] = False
                self._dead += len(rows)
            if self._n and self._dead > self.tuning.compact_dead_share * self._n:
                self._compact()

    def _reserve(self, rows: int) -> None:
        if rows <= len(self._chunk):
            return
        cap = max(rows, 2 * len(self._chunk), 1024)
        self._vectors = _grown(self._vectors, cap, self._n)
        self._chunk = _grown(self._chunk, cap, self._n)
        self._doc = _grown(self._doc, cap, self._n)
        self._alive = _grown(self._alive, cap, self._n)

    def _compact(self) -> None:
        keep = np.flatnonzero(self._alive[: self._n])
        self._vectors = np.ascontiguousarray(self._vectors[keep])
        self._chunk, self._doc = self._chunk[keep], self._doc[keep]
        self._alive = np.ones(len(keep), dtype=np.bool_)
        self._n, self._dead = len(keep), 0
        grouped: dict[int, list[int]] = {}
        for row, doc in enumerate(self._doc.tolist()):
            grouped.setdefault(doc, []).append(row)
        self._rows = {d: np.asarray(r, dtype=np.int64) for d, r in grouped.items()}
        self._ivf, self._ivf_rows = None, 0
        self._layout += 1

    # -- the IVF accelerator ---------------------------------------------------------------

    def needs_ivf(self) -> bool:
        """Whether an IVF build is due: faiss present, enough rows, none built or it covers
        less than half of the rows."""
        return (
            HAVE_FAISS
            and not self._building
            and self.size >= self.tuning.ivf_min_rows
            and self._ivf_rows < self._n // 2 + 1
        )

    def build_ivf(self) -> bool:
        """Train and fill an IVF index over the current rows (slow: run in a worker thread);
        False when the layout changed meanwhile and the build was thrown away."""
        import faiss

        with self._lock:
            if self._building:
                return False
            self._building = True
            vectors, n, layout = self._vectors, self._n, self._layout
        try:
            lists = int(min(1024, max(16, 4 * np.sqrt(n))))
            quantizer = faiss.IndexFlatIP(self.dimensions)
            ivf = faiss.IndexIVFFlat(quantizer, self.dimensions, lists, faiss.METRIC_INNER_PRODUCT)
            sample = np.random.default_rng(0).choice(n, size=min(n, 40 * lists), replace=False)
            ivf.train(np.ascontiguousarray(vectors[np.sort(sample)]))
            ivf.add_with_ids(np.ascontiguousarray(vectors[:n]), np.arange(n, dtype=np.int64))
            with self._lock:
                if layout != self._layout:
                    return False
                self._ivf, self._ivf_rows = ivf, n
            return True
        finally:
            self._building = False

    # -- search ----------------------------------------------------------------------------

    def _one_blas_thread(self) -> Any:
        """A matrix-vector product split over OpenBLAS's threads costs 100x more on a busy
        machine (its threads spin waiting for each other) than on one thread."""
        if self._blas is None:
            from threadpoolctl import ThreadpoolController

            self._blas = ThreadpoolController()
        return self._blas.limit(limits=1, user_api="blas")

    def search(
        self, query: Matrix, k: int, allowed: Mask | None = None, *, exact: bool = False
    ) -> list[tuple[int, float]]:
        """The ``k`` best ``(chunk id, cosine)`` among live rows ``allowed`` permits
        (``exact``: never the IVF index — the reference recall is measured against)."""
        with self._lock:
            n, vectors, chunk = self._n, self._vectors, self._chunk
            alive, ivf, ivf_rows = self._alive[:n].copy(), self._ivf, self._ivf_rows
        if allowed is not None and len(allowed) < n:  # rows added since the mask was made
            allowed = np.concatenate([allowed, np.zeros(n - len(allowed), dtype=np.bool_)])
        mask = alive if allowed is None else alive & allowed[:n]
        count = int(mask.sum())
        if count == 0 or k <= 0:
            return []
        q = np.ascontiguousarray(query.reshape(-1), dtype=np.float32)
        with self._one_blas_thread():
            if exact or ivf is None or count <= self.tuning.exact_max_rows:
                rows, scores = _exact(vectors, q, np.flatnonzero(mask), k)
            else:
                rows, scores = self._approximate(ivf, ivf_rows, vectors, q, mask, k)
                if len(rows) < min(k, count):  # probes missed rows the filter allows
                    rows, scores = _exact(vectors, q, np.flatnonzero(mask), k)
        return [(int(chunk[r]), float(s)) for r, s in zip(rows, scores, strict=True)]

    def _approximate(
        self, ivf: Any, ivf_rows: int, vectors: Matrix, q: Matrix, mask: Mask, k: int
    ) -> tuple[Ids, Matrix]:
        import faiss

        faiss.omp_set_num_threads(1)  # one query: a team of spinning threads only costs
        head = mask[:ivf_rows]
        bits = np.packbits(head, bitorder="little")
        selector = faiss.IDSelectorBitmap(ivf_rows, faiss.swig_ptr(bits))  # bits stay alive
        params: Any = faiss.SearchParametersIVF()
        params.sel, params.nprobe = selector, self.tuning.nprobe
        scores, ids = ivf.search(q[None, :], k, params=params)
        found = ids[0] >= 0
        rows, best = ids[0][found].astype(np.int64), scores[0][found]
        tail = np.flatnonzero(mask[ivf_rows:]) + ivf_rows
        if len(tail):
            t_rows, t_scores = _exact(vectors, q, tail, k)
            rows, best = np.concatenate([rows, t_rows]), np.concatenate([best, t_scores])
        order = np.argsort(-best, kind="stable")[:k]
        return rows[order], best[order]


def _exact(vectors: Matrix, q: Matrix, rows: Ids, k: int) -> tuple[Ids, Matrix]:
    """Exact top-``k`` by inner product among ``rows``."""
    if len(rows) == len(vectors) or (len(rows) and rows[-1] - rows[0] + 1 == len(rows)):
        scores = vectors[rows[0] : rows[-1] + 1] @ q  # a contiguous run: no gather copy
    else:
        scores = vectors[rows] @ q
    top = np.argpartition(-scores, k - 1)[:k] if len(rows) > k else np.arange(len(rows))
    top = top[np.argsort(-scores[top], kind="stable")]
    return rows[top], scores[top]


def _grown(array: np.ndarray[Any, Any], cap: int, used: int) -> np.ndarray[Any, Any]:
    out = np.zeros((cap, *array.shape[1:]), dtype=array.dtype)
    out[:used] = array[:used]
    return out
