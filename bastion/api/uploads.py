"""Streamed uploads: a request body written chunk by chunk to a temporary file, size-capped.

Artifacts, eval sets and training data arrive as ``application/octet-stream`` (the CLI's
``AdminClient.upload``); nothing is held whole in memory. The file lives under the data dir
(``uploads/``, the same disk as the artifact store) and is removed when the route is done.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import shutil
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path, PurePosixPath
from typing import Any

from starlette.requests import Request

from bastion.errors import InvalidRequest, PayloadTooLarge, UnsupportedMediaType

OCTET_STREAM = "application/octet-stream"


@contextlib.asynccontextmanager
async def streamed_upload(
    request: Request,
    directory: Path,
    *,
    filename: str | None,
    max_bytes: int,
    limit_name: str,
) -> AsyncIterator[Path]:
    """The request body in a temporary file under ``directory``, named like ``filename`` (its
    base name: suffixes tell formats apart, messages name it); 413 naming ``limit_name`` once
    it passes ``max_bytes``, 415 unless it is sent as application/octet-stream."""
    media = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media != OCTET_STREAM:
        raise UnsupportedMediaType(
            f"send the file as Content-Type: {OCTET_STREAM}, got {media or 'none'!r}"
        )
    declared = request.headers.get("content-length")
    if (
        declared is not None
        and declared.isascii()
        and declared.isdigit()
        and int(declared) > max_bytes
    ):
        raise PayloadTooLarge(f"the upload is {declared} bytes; {limit_name} allows {max_bytes}")
    folder = await asyncio.to_thread(_new_folder, directory)
    path = folder / _base_name(filename)
    try:
        seen = 0
        with path.open("wb") as out:
            async for chunk in request.stream():
                seen += len(chunk)
                if seen > max_bytes:
                    raise PayloadTooLarge(
                        f"the upload passed {max_bytes} bytes, which {limit_name} allows"
                    )
                out.write(chunk)
        if seen == 0:
            raise InvalidRequest("the upload is empty; send the file's bytes as the body")
        yield path
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _new_folder(directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix="upload-", dir=directory))


def _base_name(filename: str | None) -> str:
    """A safe file name: the last path part of ``filename``, else ``upload``."""
    name = PurePosixPath((filename or "").replace("\\", "/")).name.strip()
    return name if name and name not in (".", "..") else "upload"


def json_field(raw: str | None, field: str) -> Any:
    """A query field that carries JSON (``signature``, ``metrics``, ``params``); 422 if not."""
    if raw is None:
        return None
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise InvalidRequest(f"{field}: not valid JSON: {exc}", details={"field": field}) from exc
