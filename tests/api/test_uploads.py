"""Streamed uploads: written to disk as they arrive, capped, typed, removed afterwards."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.testclient import TestClient

from bastion.api.uploads import json_field, streamed_upload
from bastion.errors import BastionError, InvalidRequest

CAP = 10_000


def _app(folder: Path, seen: list[Path]) -> Starlette:
    async def upload(request: Request) -> Response:
        try:
            async with streamed_upload(
                request,
                folder,
                filename=request.query_params.get("filename"),
                max_bytes=CAP,
                limit_name="limits.test",
            ) as path:
                seen.append(path)
                return JSONResponse({"name": path.name, "size": path.stat().st_size})
        except BastionError as exc:
            return JSONResponse({"type": exc.type, "message": exc.message}, int(exc.status))

    return Starlette(routes=[Route("/up", upload, methods=["POST"])])


@pytest.fixture
def client(tmp_path: Path) -> Iterator[tuple[TestClient, list[Path]]]:
    seen: list[Path] = []
    with TestClient(_app(tmp_path / "uploads", seen)) as test_client:
        yield test_client, seen


def _chunks(n: int, size: int) -> Iterator[bytes]:
    for _ in range(n):
        yield b"x" * size


OCTET = {"content-type": "application/octet-stream"}


def test_a_stream_lands_on_disk_under_its_base_name_and_is_removed(
    client: tuple[TestClient, list[Path]],
) -> None:
    test_client, seen = client
    r = test_client.post(
        "/up?filename=../../etc/train.csv", content=_chunks(4, 1000), headers=OCTET
    )
    assert r.status_code == 200, r.text
    assert r.json() == {"name": "train.csv", "size": 4000}
    assert not seen[0].exists() and not seen[0].parent.exists()


def test_past_the_cap_is_413_while_streaming_and_by_declared_length(
    client: tuple[TestClient, list[Path]],
) -> None:
    test_client, seen = client
    streamed = test_client.post("/up", content=_chunks(11, 1000), headers=OCTET)
    assert streamed.status_code == 413 and "limits.test" in streamed.json()["message"]
    declared = test_client.post("/up", content=b"x" * (CAP + 1), headers=OCTET)
    assert declared.status_code == 413 and str(CAP + 1) in declared.json()["message"]
    assert not seen


def test_only_octet_streams_and_not_empty(client: tuple[TestClient, list[Path]]) -> None:
    test_client, _ = client
    wrong = test_client.post("/up", json={"a": 1})
    assert wrong.status_code == 415 and "application/octet-stream" in wrong.json()["message"]
    empty = test_client.post("/up", content=b"", headers=OCTET)
    assert empty.status_code == 422 and "empty" in empty.json()["message"]


def test_json_fields() -> None:
    assert json_field(None, "signature") is None
    assert json_field('{"a": 1}', "signature") == {"a": 1}
    with pytest.raises(InvalidRequest, match="metrics: not valid JSON"):
        json_field("{nope", "metrics")
