"""A prompt's retrieval step over a real retrieval collection (bastion/rag): the chunks the
collection returns fill the template and come back as the answer's citations."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from bastion.testing import FaultUpstream, running_upstream
from tests.e2e.server import Server, make_server

pytestmark = [pytest.mark.e2e]

TEMPLATE = {
    "model": "fast",
    "variables": {
        "type": "object",
        "properties": {"question": {"type": "string"}},
        "required": ["question"],
    },
    "retrieval": {"collection": "handbook", "query": "{{question}}", "into": "context", "k": 1},
    "messages": [
        {"role": "system", "content": "Answer from the context."},
        {"role": "user", "content": "{{context}}"},
    ],
}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    root = tmp_path_factory.mktemp("prompts-rag")
    with running_upstream(FaultUpstream(reply_prefix="")) as upstream:
        member = {"name": "fast", "base_url": upstream.base_url, "model": "m-fast"}
        cfg = {"demo": False, "llm": {"groups": [{"name": "fast", "upstreams": [member]}]}}
        (root / "bastion.yaml").write_text(yaml.safe_dump(cfg))
        srv = make_server(root / "data", BASTION_CONFIG=str(root / "bastion.yaml")).start()
        try:
            yield srv
        finally:
            srv.stop()


def test_citations_come_from_the_collection(server: Server, tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "refunds.md").write_text("# Refunds\n\nRefunds are paid within fourteen days.\n")
    (docs / "shipping.md").write_text("# Shipping\n\nParcels leave Rotterdam every weekday.\n")
    server.cli("rag", "create", "handbook")
    assert "2 indexed" in server.cli("rag", "index", "handbook", str(docs)).stdout
    (tmp_path / "prompt.yaml").write_text(yaml.safe_dump(TEMPLATE))
    server.cli("prompts", "register", "answer", str(tmp_path / "prompt.yaml"))
    server.cli("prompts", "promote", "answer", "1")

    body = {"variables": {"question": "How long until my refund is paid?"}}
    r = server.post("/v1/prompts/answer/completions", json=body)
    assert r.status_code == 200, r.text
    (cited,) = r.json()["citations"]
    assert cited["document"] == "refunds.md" and cited["score"] > 0
    assert "fourteen days" in r.json()["choices"][0]["message"]["content"]
    records = server.get("/v1/admin/audit", params={"request_id": r.headers["x-request-id"]})
    prompt = records.json()["data"][0]["details"]["prompt"]
    assert prompt["citations"][0]["document"] == "refunds.md"
