"""No raw PII at rest: PII goes through every route of a real server (predict, OIP, chat
streamed and not, embeddings, feedback, review corrections, batch jobs, OpenAI batches, a
deployment and a model named by an e-mail address), then every table, file and log line of
the data directory is scanned for it. Files a user uploads for a job, and the answers written
back for them (``files/``, ``jobs/``), are the user's own and are not scanned."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openai
import pytest
import yaml

from bastion.testing import running_upstream
from tests.e2e.server import Server, make_server

pytestmark = pytest.mark.e2e

TEXT = (
    "Hi, I am writing for Rebecca Thornton (ana.lima.pii@example.org, +44 20 7946 0958). "
    "Card 4111 1111 1111 1111, IBAN DE89 3704 0044 0532 0130 00, SSN 219-09-9999. She lives "
    "at 742 Evergreen Terrace, Springfield, IL 62704, date of birth 12/03/1985. My password "
    "is hunter2secret and the key is wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY."
)
# What must not be found anywhere at rest (each a distinctive part of one value).
RAW = (
    "Rebecca Thornton",
    "Thornton",
    "ana.lima.pii",
    "7946 0958",
    "4111 1111 1111 1111",
    "4111111111111111",
    "DE89 3704",
    "219-09-9999",
    "Evergreen Terrace",
    "12/03/1985",
    "hunter2secret",
    "wJalrXUtnFEMI",
    "bob.pii",
    "carol.pii",
)


def echo(inputs: list[Any]) -> list[Any]:
    """A model that repeats its input's text in its answer, unsure of itself (so that every
    answer is queued for review): what is stored of outputs must be scrubbed too."""
    return [
        {"output": {"label": "spam", "summary": str(_text(item))}, "confidence": 0.3}
        for item in inputs
    ]


def _text(item: Any) -> Any:
    """The text of a predict item (a dict) or of an OIP row (its tensors' values)."""
    if isinstance(item, dict):
        return item.get("text", item)
    return item


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    with running_upstream() as upstream:
        config = {
            "demo": False,
            "llm": {
                "groups": [
                    {
                        "name": name,
                        "upstreams": [
                            {"name": f"{name}-up", "base_url": upstream.base_url, "model": model}
                        ],
                    }
                    for name, model in (("chat", "m-ok"), ("emb", "m-emb"))
                ]
            },
            "review": {
                "policies": [
                    {"deployment": "echo", "confidence_below": 0.5, "client_may_request": True}
                ]
            },
        }
        path = tmp_path / "bastion.yaml"
        path.write_text(yaml.safe_dump(config))
        srv = make_server(tmp_path / "data", BASTION_CONFIG=str(path))
        srv.start()
        try:
            srv.cli("models", "register", "echo", "--entry-point", "tests.e2e.test_pii_leaks:echo")
            srv.cli("models", "promote", "echo", "1")
            deadline = time.monotonic() + 20
            while srv.get("/v1/deployments/echo").json().get("version") != 1:
                assert time.monotonic() < deadline, srv.log()
                time.sleep(0.05)
            yield srv
        finally:
            srv.stop()


def _through_every_route(server: Server, tmp_path: Path) -> None:
    predicted = server.post("/v1/deployments/echo/predict", json={"input": {"text": TEXT}})
    assert predicted.status_code == 200, predicted.text
    request_id = predicted.json()["id"]
    review_id = predicted.json()["output"]["review_id"]

    oip = {"inputs": [{"name": "text", "shape": [1], "datatype": "BYTES", "data": [TEXT]}]}
    inferred = server.post("/v2/models/echo/infer", json=oip)
    assert inferred.status_code == 200, inferred.text

    client = openai.OpenAI(base_url=server.url + "/v1", api_key=server.admin_key, max_retries=0)
    messages: Any = [{"role": "system", "content": TEXT}, {"role": "user", "content": TEXT}]
    answer = client.chat.completions.create(model="chat", messages=messages)
    assert answer.choices[0].message.content
    chunks = list(client.chat.completions.create(model="chat", messages=messages, stream=True))
    assert chunks
    assert client.embeddings.create(model="emb", input=[TEXT]).data

    sent = server.post("/v1/feedback", json={"request_id": request_id, "label": "ham"})
    assert sent.status_code in (200, 201, 202), sent.text
    unknown = server.post(
        "/v1/feedback", json={"request_id": "ana.lima.pii@example.org", "label": "ham"}
    )
    assert unknown.status_code == 404, unknown.text

    claim = server.post(f"/v1/review/items/{review_id}/claim")
    assert claim.status_code == 200, claim.text
    correction = {"action": "correct", "output": {"label": "ham", "summary": TEXT}, "reason": TEXT}
    decided = server.post(f"/v1/review/items/{review_id}/decide", json=correction)
    assert decided.status_code == 200, decided.text

    rows = b"".join(json.dumps({"text": TEXT}).encode() + b"\n" for _ in range(3))
    job = server.post(
        "/v1/admin/jobs",
        params={"deployment": "echo", "filename": "in.jsonl"},
        content=rows,
        headers={**server.auth, "content-type": "application/octet-stream"},
    )
    assert job.status_code == 201, job.text
    job_id = job.json()["data"]["id"]
    deadline = time.monotonic() + 60
    while (status := server.get(f"/v1/admin/jobs/{job_id}").json()["data"]["status"]) in (
        "queued",
        "running",
    ):
        assert time.monotonic() < deadline, server.log()
        time.sleep(0.1)
    assert status == "succeeded", status

    # the OpenAI batch API: the requests file is the user's (files/), the rest is scrubbed
    line = {
        "custom_id": "r1",
        "method": "POST",
        "url": "/v1/chat/completions",
        "body": {"model": "chat", "messages": messages},
    }
    path = tmp_path / "batch.jsonl"
    path.write_text(json.dumps(line) + "\n")
    with path.open("rb") as fh:
        uploaded = client.files.create(file=fh, purpose="batch")
    batch = client.batches.create(
        input_file_id=uploaded.id,
        endpoint="/v1/chat/completions",
        completion_window="24h",
        metadata={"owner": "ana.lima.pii@example.org"},
    )
    deadline = time.monotonic() + 60
    while batch.status not in ("completed", "failed", "cancelled"):
        assert time.monotonic() < deadline, batch
        time.sleep(0.2)
        batch = client.batches.retrieve(batch.id)
    assert batch.status == "completed", batch

    # names a client controls: a deployment and a chat model called by an e-mail address
    missing = server.post("/v1/deployments/bob.pii@corp.example/predict", json={"input": {}})
    assert missing.status_code == 404
    with pytest.raises(openai.NotFoundError):
        client.chat.completions.create(model="carol.pii@corp.example", messages=messages)


def _found_in_tables(db: Path) -> list[str]:
    hits = []
    with sqlite3.connect(db) as conn:
        tables = [r[0] for r in conn.execute("select name from sqlite_master where type='table'")]
        for table in tables:
            for row in conn.execute(f'select * from "{table}"'):
                for cell in row:
                    text = cell.decode("utf-8", "replace") if isinstance(cell, bytes) else str(cell)
                    hits.extend(f"{table}: {raw}" for raw in RAW if raw in text)
    return hits


def _found_in_files(data_dir: Path) -> list[str]:
    hits = []
    for path in data_dir.rglob("*"):
        # files/ and jobs/: a batch job's own input (uploaded by the user for the job) and its
        # output (the answers the user asked for) are the user's files, not Bastion's records.
        parts = path.relative_to(data_dir).parts
        if not path.is_file() or parts[0] in ("files", "jobs"):
            continue
        data = path.read_bytes()
        hits.extend(f"{path.relative_to(data_dir)}: {raw}" for raw in RAW if raw.encode() in data)
    return hits


def test_no_raw_pii_in_any_table_file_or_log_line(server: Server, tmp_path: Path) -> None:
    _through_every_route(server, tmp_path)
    server.stop()  # a graceful stop flushes the writers
    tables = _found_in_tables(server.data_dir / "bastion.db")
    files = _found_in_files(server.data_dir)
    assert tables == [] and files == [], (tables, files)
    # and the records are there: what was scrubbed was written, not dropped
    with sqlite3.connect(server.data_dir / "bastion.db") as conn:
        logged = conn.execute("select count(*), min(mode) from prediction_log").fetchone()
        audited = conn.execute(
            "select deployment from audit_records where status = 'error'"
        ).fetchall()
        review = conn.execute("select payload from review_items").fetchone()
    assert logged[0] >= 5 and logged[1] == "scrubbed", logged
    assert ("[EMAIL]",) in audited, audited  # the deployment named by an e-mail address
    assert b"[EMAIL]" in review[0] and b"[NAME]" in review[0]
