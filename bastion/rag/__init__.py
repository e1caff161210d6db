"""Retrieval collections: parsing, chunking, embedding, the in-process vector index kept in
step with the database, tenant and access rules inside every query, freshness."""

from bastion.rag.base import ChunkPolicy, Citation, Collection, DocumentInfo, IndexResult, Retriever
from bastion.rag.service import RagService

__all__ = [
    "ChunkPolicy",
    "Citation",
    "Collection",
    "DocumentInfo",
    "IndexResult",
    "RagService",
    "Retriever",
]
