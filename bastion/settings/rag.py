"""Settings of retrieval collections: indexing limits, the in-process index, freshness checks."""

from __future__ import annotations

from pydantic import Field

from bastion.settings.core import Section


class RagSettings(Section):
    """Collections themselves (name, chunking policy, freshness target) are created through
    the admin API; these settings tune every collection of the server."""

    enabled: bool = Field(True, description="serve the /v1/admin/rag routes")
    max_document_bytes: int = Field(
        50 * 1024 * 1024, ge=1024, description="the largest document one upload may index"
    )
    quantized_encoder: bool = Field(
        True, description="embed with the bundled MiniLM's int8-matmul copy (about 2x faster)"
    )
    embed_batch: int = Field(64, ge=1, le=1024, description="chunks per encoder call")
    max_k: int = Field(100, ge=1, le=1000, description="the most results one search returns")
    ivf_min_rows: int = Field(
        20_000, ge=1, description="chunks from which a collection builds an IVF index (faiss)"
    )
    nprobe: int = Field(32, ge=1, le=4096, description="IVF lists probed per search")
    exact_max_rows: int = Field(
        4_096, ge=1, description="a filter allowing at most this many chunks is searched exactly"
    )
    keyword_weight: float = Field(
        0.3, ge=0, le=1, description="hybrid search: the keyword rank's share of the fused score"
    )
    poll_interval_s: float = Field(
        0.25, gt=0, le=60, description="how soon other replicas' new documents are searchable"
    )
    freshness_interval_s: float = Field(
        60.0, gt=0, description="how often document age is measured and alerted on"
    )
