"""The OpenAI Files and Batch API through the `openai` SDK, unchanged, against a real server
whose LLM groups point at the bundled fault upstream: results in OpenAI's shapes, a failing
line in the error file, one charge per line, idempotent creates, other tenants refused."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import openai
import orjson
import pytest

from tests.e2e.llm_env import LlmEnv
from tests.e2e.server import Server

pytestmark = pytest.mark.e2e


def _secret(server: Server, *args: str) -> str:
    return server.cli("keys", "create", *args).stdout.strip().splitlines()[-1].strip()


def _client(llm: LlmEnv, key: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=llm.server.url + "/v1", api_key=key, max_retries=0, timeout=15)


def _lines(n: int) -> bytes:
    lines = [
        {
            "custom_id": f"req-{i}",
            "method": "POST",
            "url": "/v1/chat/completions",
            "body": {
                "model": "ok" if i != 3 else "no-such-group",
                "messages": [{"role": "user", "content": f"question {i}"}],
                "max_tokens": 10,
            },
        }
        for i in range(n)
    ]
    return b"\n".join(orjson.dumps(x) for x in lines) + b"\n"


def test_files_and_batches_with_the_sdk(llm: LlmEnv, tmp_path: Path) -> None:
    acme = _secret(llm.server, "--name", "acme-batch", "--role", "client", "--tenant", "acme")
    globex = _secret(llm.server, "--name", "globex", "--role", "client", "--tenant", "globex")
    client = _client(llm, acme)
    path = tmp_path / "requests.jsonl"
    path.write_bytes(_lines(6))
    with path.open("rb") as fh:
        uploaded = client.files.create(file=fh, purpose="batch")
    assert uploaded.purpose == "batch" and uploaded.bytes == path.stat().st_size
    assert client.files.content(uploaded.id).content == path.read_bytes()
    batch = client.batches.create(
        input_file_id=uploaded.id,
        endpoint="/v1/chat/completions",
        completion_window="24h",
        metadata={"run": "nightly"},
        extra_headers={"Idempotency-Key": "nightly-1"},
    )
    again = client.batches.create(
        input_file_id=uploaded.id,
        endpoint="/v1/chat/completions",
        completion_window="24h",
        extra_headers={"Idempotency-Key": "nightly-1"},
    )
    assert again.id == batch.id  # the retried create did not start a second batch
    deadline = time.monotonic() + 60
    while batch.status not in ("completed", "failed", "cancelled"):
        assert time.monotonic() < deadline, batch
        time.sleep(0.2)
        batch = client.batches.retrieve(batch.id)
    assert batch.status == "completed", batch
    assert batch.request_counts is not None
    assert (batch.request_counts.total, batch.request_counts.completed) == (6, 5)
    assert batch.request_counts.failed == 1
    assert batch.metadata == {"run": "nightly"}
    assert batch.output_file_id is not None and batch.error_file_id is not None
    out = [orjson.loads(x) for x in client.files.content(batch.output_file_id).content.splitlines()]
    assert [o["custom_id"] for o in out] == ["req-0", "req-1", "req-2", "req-4", "req-5"]
    assert all(o["response"]["status_code"] == 200 for o in out)
    assert out[0]["response"]["body"]["object"] == "chat.completion"
    errors = client.files.content(batch.error_file_id).content.splitlines()
    failed = orjson.loads(errors[0])
    assert failed["custom_id"] == "req-3" and failed["response"]["status_code"] == 404

    other = _client(llm, globex)
    with pytest.raises(openai.NotFoundError):
        other.batches.retrieve(batch.id)
    with pytest.raises(openai.NotFoundError):
        other.files.retrieve(uploaded.id)
    with pytest.raises(openai.NotFoundError):
        other.files.content(batch.output_file_id)
    with pytest.raises(openai.NotFoundError):
        other.batches.cancel(batch.id)
    with pytest.raises(openai.BadRequestError):
        client.batches.create(
            input_file_id=uploaded.id, endpoint="/v1/moderations", completion_window="24h"
        )  # type: ignore[arg-type]

    with sqlite3.connect(llm.server.data_dir / "bastion.db") as db:
        for _ in range(50):  # the usage log is written in batches; wait for it
            charged = db.execute(
                "select count(*), count(distinct request_id) from usage_records"
                " where request_id like ?",
                (f"{batch.id}-%",),
            ).fetchone()
            if charged[0] >= 5:
                break
            time.sleep(0.1)
        assert charged == (5, 5)  # one charge per answered line
        count = db.execute("select count(*) from openai_batches").fetchone()[0]
    assert count >= 1
