"""Retrieval through a real server: `bastion rag` indexes a folder (Markdown, HTML, PDF, text)
as a client of the admin API; re-indexing skips, replaces and prunes; search honours tenants."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.e2e.server import Server, make_server

pytestmark = pytest.mark.e2e


def tiny_pdf(text: str) -> bytes:
    """A one-page PDF showing ``text`` in Helvetica (enough for a text extractor)."""
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for i, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += f"{i} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += (
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    )
    return bytes(out)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Any:
    srv = make_server(tmp_path_factory.mktemp("rag"), BASTION_DEMO="false").start()
    try:
        yield srv
    finally:
        srv.stop()


def _search(server: Server, collection: str, query: str, **kw: Any) -> list[dict[str, Any]]:
    headers = kw.pop("headers", server.auth)
    body = {"query": query, "k": 5, **kw}
    r = server.post(f"/v1/rag/collections/{collection}/search", json=body, headers=headers)
    assert r.status_code == 200, r.text
    return list(r.json()["data"])


def test_cli_indexes_a_folder_and_reindexes_it(server: Server, tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    (docs / "sub").mkdir(parents=True)
    (docs / "cats.md").write_text("# Cats\n\n## Sleep\n\nCats sleep sixteen hours a day.\n")
    (docs / "sub" / "oven.html").write_text(
        "<html><head><script>var x=1;</script></head><body><h1>Ovens</h1>"
        "<p>Preheat the oven before baking bread.</p></body></html>"
    )
    (docs / "moon.pdf").write_bytes(tiny_pdf("The Moon orbits the Earth every 27 days."))
    (docs / "notes.txt").write_text("Meeting notes: ship the release on Monday.")
    (docs / "skip.bin").write_bytes(b"\x00\x01")

    server.cli("rag", "create", "kb", "--strategy", "heading", "--staleness-target-s", "3600")
    first = server.cli("rag", "index", "kb", str(docs)).stdout
    assert "4 indexed" in first, first

    listed = server.get("/v1/admin/rag/collections/kb/documents").json()["data"]
    assert sorted(d["doc_id"] for d in listed) == [
        "cats.md",
        "moon.pdf",
        "notes.txt",
        "sub/oven.html",
    ]
    kinds = {d["doc_id"]: d["media_type"] for d in listed}
    assert kinds["moon.pdf"] == "pdf" and kinds["sub/oven.html"] == "html"

    hit = _search(server, "kb", "how long does the moon take to go around the earth?")[0]
    assert hit["document_id"] == "moon.pdf" and "27 days" in hit["text"]
    cat = _search(server, "kb", "how much do cats sleep")[0]
    assert cat["document_id"] == "cats.md" and cat["heading"] == "Cats > Sleep"
    oven = _search(server, "kb", "baking bread")[0]
    assert oven["document_id"] == "sub/oven.html" and "var x" not in oven["text"]

    (docs / "notes.txt").write_text("Meeting notes: the release moves to Thursday.")
    (docs / "cats.md").unlink()
    second = server.cli("rag", "index", "kb", str(docs), "--prune").stdout
    assert "1 replaced" in second and "2 unchanged" in second and "1 deleted" in second, second
    listed = server.get("/v1/admin/rag/collections/kb/documents").json()["data"]
    assert "cats.md" not in {d["doc_id"] for d in listed}
    assert all(h["document_id"] != "cats.md" for h in _search(server, "kb", "cats sleeping"))
    notes = [
        h for h in _search(server, "kb", "when is the release?") if h["document_id"] == "notes.txt"
    ]
    assert notes and "Thursday" in notes[0]["text"] and "Monday" not in notes[0]["text"]


def test_another_tenants_collection_is_absent(server: Server) -> None:
    r = server.post(
        "/v1/admin/keys", json={"name": "other-op", "roles": ["operator"], "tenant": "other"}
    )
    assert r.status_code == 201, r.text
    other = {"Authorization": f"Bearer {r.json()['key']}"}
    assert server.post("/v1/admin/rag/collections", json={"name": "root-only"}).status_code == 201
    found = server.post("/v1/rag/collections/root-only/search", json={"query": "x"}, headers=other)
    assert found.status_code == 404, found.text
    names = [
        c["name"] for c in server.get("/v1/admin/rag/collections", headers=other).json()["data"]
    ]
    assert "root-only" not in names
    upload = server.request(
        "POST",
        "/v1/admin/rag/collections/root-only/documents",
        params={"doc_id": "x.txt"},
        content=b"sneaking in",
        headers={**other, "content-type": "application/octet-stream"},
    )
    assert upload.status_code == 404, upload.text
    docs = server.get("/v1/admin/rag/collections/root-only/documents").json()["data"]
    assert docs == []


def test_clients_search_but_stay_out_of_the_admin_routes(server: Server) -> None:
    r = server.post("/v1/admin/keys", json={"name": "reader", "roles": ["client"]})
    assert r.status_code == 201, r.text
    client = {"Authorization": f"Bearer {r.json()['key']}"}
    assert server.post("/v1/admin/rag/collections", json={"name": "faq"}).status_code == 201
    upload = server.request(
        "POST",
        "/v1/admin/rag/collections/faq/documents",
        params={"doc_id": "hours.txt"},
        content=b"The shop opens at nine in the morning.",
        headers={**server.auth, "content-type": "application/octet-stream"},
    )
    assert upload.status_code == 201, upload.text
    hits = _search(server, "faq", "when does the shop open?", headers=client)
    assert [h["document_id"] for h in hits] == ["hours.txt"]
    refused = server.request(
        "DELETE", "/v1/admin/rag/collections/faq/documents/hours.txt", headers=client
    )
    assert refused.status_code == 403, refused.text
    assert server.get("/v1/admin/rag/collections/faq/documents").json()["data"][0]["doc_id"] == (
        "hours.txt"
    )
