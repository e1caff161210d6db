"""Wiring of the retrieval collections: their service, embedding with the bundled MiniLM."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from bastion.backends.resources import Resources
from bastion.core.ownership import Ownership
from bastion.observability.sinks import AlertSink
from bastion.rag import RagService
from bastion.settings import Settings
from bastion.store import Database

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry


def build_rag(
    settings: Settings,
    db: Database,
    resources: Resources,
    ownership: Ownership,
    alerts: AlertSink | None,
    registry: CollectorRegistry | None,
) -> RagService | None:
    """Retrieval collections, embedding with the bundled MiniLM (None with rag off)."""
    if not settings.rag.enabled:
        return None
    return RagService(
        settings.rag,
        db,
        rag_encoder(settings, resources),
        ownership=ownership,
        alerts=alerts,
        registry=registry,
    )


def rag_encoder(settings: Settings, resources: Resources) -> Callable[[Sequence[str]], Any]:
    """The bundled MiniLM for retrieval: by default its copy with int8 matmuls (about twice
    as fast on chunk-sized texts, cosine ≥ 0.99 to the bundled file; the guards' screen uses
    the same copy). Built on first use, in the worker thread that embeds."""
    from bastion.backends.encoder import bundled_encoder_paths, bundled_encoder_sha256
    from bastion.guards.injection.fast import quantized_copy

    cache = settings.data_dir / "cache"

    def encode(texts: Sequence[str]) -> Any:
        path = None
        if settings.rag.quantized_encoder:
            path = quantized_copy(bundled_encoder_paths()[0], cache, bundled_encoder_sha256())
        return resources.text_encoder(path).encode(texts)

    return encode
