"""`bastion rag …`: retrieval collections, as a client of the admin API.

``index COLLECTION PATH`` streams each supported file under PATH to the server (the doc id is
its path relative to PATH); the server skips unchanged files and replaces changed ones.
With ``--prune`` the documents whose files are gone are deleted.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import typer

from bastion.cli.client import AdminClient, KeyOption, UrlOption
from bastion.cli.common import ConfigOption, console

app = typer.Typer(help="Retrieval collections: create, index files and folders, search, delete.")
SUFFIXES = frozenset({".txt", ".text", ".md", ".markdown", ".html", ".htm", ".pdf"})


PAGE = 1000  # documents per listing request


def _base(collection: str, prefix: str = "/v1/admin/rag") -> str:
    return f"{prefix}/collections/{quote(collection, safe='')}"


def _documents(client: AdminClient, base: str) -> Iterator[dict[str, Any]]:
    """Every document of the collection at ``base``, a page of ``PAGE`` at a time."""
    after: str | None = None
    while True:
        page = client.get(f"{base}/documents", limit=PAGE, after=after)["data"]
        yield from page
        if len(page) < PAGE:
            return
        after = page[-1]["doc_id"]


@app.command("create")
def create(
    collection: str,
    strategy: str = typer.Option("size", help="size | heading (Markdown/HTML headings first)"),
    size: int = typer.Option(800, help="characters per chunk"),
    overlap: int = typer.Option(100, help="characters shared by neighbouring chunks"),
    staleness_target_s: float | None = typer.Option(
        None, "--staleness-target-s", help="alert when a document is older than this"
    ),
    shared: bool = typer.Option(False, help="a collection every tenant indexes into"),
    url: str | None = UrlOption,
    key: str | None = KeyOption,
    config: Path | None = ConfigOption,
) -> None:
    """Create COLLECTION with its chunking policy."""
    client = AdminClient.resolve(url, key, config)
    body = {
        "name": collection,
        "policy": {"strategy": strategy, "size": size, "overlap": overlap},
        "staleness_target_s": staleness_target_s,
        "shared": shared,
    }
    client.post("/v1/admin/rag/collections", body)
    console.print(f"collection {collection} created")


def _files(path: Path) -> list[tuple[str, Path]]:
    if path.is_file():
        return [(path.name, path)]
    return [
        (f.relative_to(path).as_posix(), f)
        for f in sorted(path.rglob("*"))
        if f.is_file() and f.suffix.lower() in SUFFIXES
    ]


@app.command("index")
def index(
    collection: str,
    path: Path = typer.Argument(..., exists=True, help="a file, or a folder indexed whole"),
    metadata: str | None = typer.Option(None, help="JSON object given to every document"),
    acl: str | None = typer.Option(None, help='JSON list, e.g. ["team:hr"]'),
    prune: bool = typer.Option(False, help="delete documents whose files are gone"),
    url: str | None = UrlOption,
    key: str | None = KeyOption,
    config: Path | None = ConfigOption,
) -> None:
    """Index every text, Markdown, HTML and PDF file under PATH into COLLECTION."""
    client = AdminClient.resolve(url, key, config)
    base = _base(collection)
    counts: dict[str, int] = {}
    seen: set[str] = set()
    for doc_id, file in _files(path):
        seen.add(doc_id)
        params = {"doc_id": doc_id, "source": str(file.resolve()), "metadata": metadata, "acl": acl}
        done = client.upload(f"{base}/documents", file, **params)["data"]
        counts[done["outcome"]] = counts.get(done["outcome"], 0) + 1
        console.print(f"{done['outcome']:>9}  {doc_id}", highlight=False)
    if prune:
        for doc_id in {d["doc_id"] for d in _documents(client, base)} - seen:
            client.delete(f"{base}/documents/{quote(doc_id)}")
            counts["deleted"] = counts.get("deleted", 0) + 1
            console.print(f"{'deleted':>9}  {doc_id}", highlight=False)
    summary = ", ".join(f"{n} {what}" for what, n in sorted(counts.items())) or "no files"
    console.print(f"{collection}: {summary}")


@app.command("search")
def search(
    collection: str,
    query: str,
    k: int = typer.Option(5, "-k"),
    filters: str | None = typer.Option(None, help='JSON object, e.g. {"lang": "en"}'),
    hybrid: bool = typer.Option(False, help="fuse keyword (full-text) and vector rankings"),
    url: str | None = UrlOption,
    key: str | None = KeyOption,
    config: Path | None = ConfigOption,
) -> None:
    """The K chunks of COLLECTION nearest QUERY (as JSON lines)."""
    client = AdminClient.resolve(url, key, config)
    body = {
        "query": query,
        "k": k,
        "filters": json.loads(filters) if filters else None,
        "hybrid": hybrid,
    }
    for hit in client.post(f"{_base(collection, '/v1/rag')}/search", body)["data"]:
        typer.echo(json.dumps(hit))


@app.command("docs")
def docs(
    collection: str,
    url: str | None = UrlOption,
    key: str | None = KeyOption,
    config: Path | None = ConfigOption,
) -> None:
    """The documents of COLLECTION: id, chunks, content hash, indexed time."""
    client = AdminClient.resolve(url, key, config)
    for d in _documents(client, _base(collection)):
        line = f"{d['doc_id']}  {d['chunks']} chunks  {d['content_sha256'][:12]}  {d['indexed_at']}"
        console.print(line, highlight=False)


@app.command("delete")
def delete(
    collection: str,
    doc_id: str,
    url: str | None = UrlOption,
    key: str | None = KeyOption,
    config: Path | None = ConfigOption,
) -> None:
    """Delete one document of COLLECTION (never retrieved again, on every replica)."""
    client = AdminClient.resolve(url, key, config)
    client.delete(f"{_base(collection)}/documents/{quote(doc_id)}")
    console.print(f"deleted {doc_id}")
