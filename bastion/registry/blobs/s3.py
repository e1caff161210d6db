"""Artifacts in an S3-compatible object store (AWS S3, MinIO, Ceph …) through boto3, the
``s3`` extra. ``s3://BUCKET/PREFIX?endpoint_url=http://host:9000&region=us-east-1``;
credentials come from boto3's usual chain (``AWS_ACCESS_KEY_ID`` …, a profile, a role), never
from the URL. Uploads are multipart from the file, downloads stream: bounded memory."""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from bastion.errors import ConfigError
from bastion.registry.artifacts import CHUNK_BYTES
from bastion.registry.blobs.base import reaching

_OPTIONS = {"endpoint_url", "region"}
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9._-]{0,62}$")


def parse_s3_url(url: str) -> tuple[str, str, dict[str, str]]:
    """``(bucket, prefix, options)`` of an ``s3://`` URL; ConfigError for anything else."""
    try:
        parts = urlsplit(url)
    except ValueError as exc:  # e.g. a stray "[" or "]": "Invalid IPv6 URL"
        raise ConfigError(f"{url!r:.200} is not a URL ({exc}); use s3://BUCKET/PREFIX") from exc
    if parts.scheme != "s3" or not parts.hostname:
        raise ConfigError(f"{url!r:.200} is not an s3:// URL; use s3://BUCKET/PREFIX")
    if not _BUCKET.match(parts.hostname):
        raise ConfigError(
            f"{parts.hostname!r:.80} is not an S3 bucket name (up to 63 lowercase letters, "
            "digits, dots, hyphens and underscores)"
        )
    if parts.username or parts.password:
        raise ConfigError(
            "an s3:// URL carries no credentials; set AWS_ACCESS_KEY_ID and "
            "AWS_SECRET_ACCESS_KEY (or a profile or role) for boto3 instead"
        )
    query = parse_qs(parts.query)
    unknown = sorted(set(query) - _OPTIONS)
    if unknown:
        raise ConfigError(
            f"unknown option(s) {', '.join(unknown)} in {url!r}; known: {sorted(_OPTIONS)}"
        )
    options = {key: values[-1] for key, values in query.items()}
    return parts.hostname, parts.path.strip("/"), options


class S3BlobStore:
    """One bucket (and key prefix); boto3's blocking calls run in worker threads."""

    def __init__(self, url: str) -> None:
        try:
            import boto3
        except ImportError as exc:
            raise ConfigError(
                "artifacts.url is an s3:// URL but boto3 is not installed; "
                "pip install 'bastion[s3]'"
            ) from exc
        self._bucket, self._prefix, options = parse_s3_url(url)
        self._client: Any = boto3.client(
            "s3",
            endpoint_url=options.get("endpoint_url"),
            region_name=options.get("region"),
        )
        shown = f"s3://{self._bucket}/{self._prefix}".rstrip("/")
        self.name = shown

    def _key(self, sha256: str) -> str:
        tail = f"sha256/{sha256[:2]}/{sha256}"
        return f"{self._prefix}/{tail}" if self._prefix else tail

    def _reaching(self) -> contextlib.AbstractContextManager[None]:
        from botocore.exceptions import BotoCoreError, ClientError

        return reaching(self.name, BotoCoreError, ClientError, OSError)

    async def size_of(self, sha256: str) -> int | None:
        with self._reaching():
            return await self._size_of(sha256)

    async def _size_of(self, sha256: str) -> int | None:
        from botocore.exceptions import ClientError

        try:
            head = await asyncio.to_thread(
                self._client.head_object, Bucket=self._bucket, Key=self._key(sha256)
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return None
            raise
        return int(head["ContentLength"])

    async def upload(self, sha256: str, size: int, source: Path) -> None:
        if await self.size_of(sha256) == size:
            return
        with self._reaching():
            await asyncio.to_thread(
                self._client.upload_file,
                str(source),
                self._bucket,
                self._key(sha256),
                ExtraArgs={"Metadata": {"sha256": sha256}},
            )

    def _body(self, sha256: str) -> Any:
        from botocore.exceptions import ClientError

        try:
            return self._client.get_object(Bucket=self._bucket, Key=self._key(sha256))["Body"]
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey"):
                return None
            raise

    async def chunks(self, sha256: str) -> AsyncIterator[bytes]:
        with self._reaching():
            async for chunk in self._chunks(sha256):
                yield chunk

    async def _chunks(self, sha256: str) -> AsyncIterator[bytes]:
        body = await asyncio.to_thread(self._body, sha256)
        if body is None:
            return
        parts: Iterator[bytes] = body.iter_chunks(CHUNK_BYTES)
        try:
            while chunk := await asyncio.to_thread(next, parts, b""):
                yield chunk
        finally:
            await asyncio.to_thread(body.close)

    async def aclose(self) -> None:
        await asyncio.to_thread(self._client.close)
