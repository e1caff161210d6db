"""The shared artifact store: what one replica stores another loads, through its own cache,
with the sha256 checked on every load; in the database (SQLite and PostgreSQL) and in a real
S3-compatible server (moto's, as its own process)."""

from __future__ import annotations

import hashlib
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from bastion.errors import ArtifactIntegrityError, ConfigError
from bastion.registry import Artifacts, ArtifactStore
from bastion.registry.artifacts import CHUNK_BYTES
from bastion.registry.blobs import BlobStore, DatabaseBlobStore
from bastion.registry.blobs.s3 import S3BlobStore, parse_s3_url
from bastion.store import Database
from bastion.store.artifact_tables import ArtifactChunkRow
from tests.registry.s3server import CREDENTIALS, make_bucket, running_s3
from tests.registry.test_artifacts import tamper

BIG = os.urandom(CHUNK_BYTES * 2 + 12345)  # three chunks
SHA = hashlib.sha256(BIG).hexdigest()


def replica(tmp_path: Path, name: str, shared: BlobStore) -> Artifacts:
    return Artifacts(ArtifactStore(tmp_path / name / "artifacts"), shared)


@pytest.fixture
async def db_store(database: Database) -> DatabaseBlobStore:
    return DatabaseBlobStore(database)


@pytest.fixture(scope="module")
def s3_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    pytest.importorskip("boto3", reason="the s3 extra (boto3) is not installed")
    saved = {k: os.environ.get(k) for k in CREDENTIALS}
    os.environ.update(CREDENTIALS)
    try:
        with running_s3(tmp_path_factory.mktemp("moto")) as endpoint:
            yield endpoint
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@pytest.fixture
async def s3_store(s3_endpoint: str, request: pytest.FixtureRequest) -> AsyncIterator[S3BlobStore]:
    bucket = f"bastion-{hashlib.sha256(request.node.nodeid.encode()).hexdigest()[:12]}"
    make_bucket(s3_endpoint, bucket)
    store = S3BlobStore(f"s3://{bucket}/registry?endpoint_url={s3_endpoint}&region=us-east-1")
    yield store
    await store.aclose()


async def stored_by_a_loads_on_b(tmp_path: Path, shared: BlobStore) -> None:
    a, b = replica(tmp_path, "a", shared), replica(tmp_path, "b", shared)
    source = tmp_path / "model.onnx"
    source.write_bytes(BIG)
    assert await a.put(source) == (SHA, len(BIG))
    assert await shared.size_of(SHA) == len(BIG)
    assert not b.cache.location(SHA).exists()
    path = await b.path(SHA, expected_size=len(BIG))
    assert path == b.cache.location(SHA) and path.read_bytes() == BIG
    assert [c.ok for c in await b.check(SHA, len(BIG))] == [True, True]
    assert await a.put(BIG) == (SHA, len(BIG))  # the same bytes again: nothing new


async def test_database_store_serves_another_replica(
    tmp_path: Path, db_store: DatabaseBlobStore, database: Database
) -> None:
    await stored_by_a_loads_on_b(tmp_path, db_store)
    async with database.session() as session:
        sizes = list(
            await session.scalars(
                select(func.length(ArtifactChunkRow.data)).order_by(ArtifactChunkRow.seq)
            )
        )
    assert sizes == [CHUNK_BYTES, CHUNK_BYTES, 12345]  # streamed in bounded chunks


async def test_s3_store_serves_another_replica(tmp_path: Path, s3_store: S3BlobStore) -> None:
    await stored_by_a_loads_on_b(tmp_path, s3_store)


async def test_a_tampered_shared_copy_is_never_loaded(
    tmp_path: Path, db_store: DatabaseBlobStore, database: Database
) -> None:
    a, b = replica(tmp_path, "a", db_store), replica(tmp_path, "b", db_store)
    await a.put(BIG)
    async with database.session() as session:
        await session.execute(
            update(ArtifactChunkRow)
            .where(ArtifactChunkRow.seq == 1)
            .values(data=b"\0" * CHUNK_BYTES)
        )
        await session.commit()
    with pytest.raises(ArtifactIntegrityError, match="does not match the registry"):
        await b.path(SHA, expected_size=len(BIG))
    assert not b.cache.location(SHA).exists()
    assert list((b.cache.root / "tmp").iterdir()) == []  # nothing half-fetched left
    cache, shared = await b.check(SHA, len(BIG))
    assert cache.ok and not shared.ok
    assert shared.actual is not None and shared.actual != SHA
    [ok_cache, bad_shared] = await a.check(SHA, len(BIG))
    assert ok_cache.ok and not bad_shared.ok  # a's cache is fine; the store is reported


async def test_an_altered_cache_is_fetched_again_from_the_shared_store(
    tmp_path: Path, db_store: DatabaseBlobStore
) -> None:
    a, b = replica(tmp_path, "a", db_store), replica(tmp_path, "b", db_store)
    await a.put(BIG)
    await b.path(SHA, expected_size=len(BIG))
    tamper(b.cache.location(SHA))
    cache, _shared = await b.check(SHA, len(BIG))
    assert not cache.ok and "modified" in cache.message  # verify reports it …
    path = await b.path(SHA, expected_size=len(BIG))  # … a load replaces it
    assert path.read_bytes() == BIG


async def test_an_artifact_no_store_holds_is_an_integrity_error(
    tmp_path: Path, db_store: DatabaseBlobStore
) -> None:
    b = replica(tmp_path, "b", db_store)
    with pytest.raises(ArtifactIntegrityError, match="in neither this replica's cache"):
        await b.path(SHA, expected_size=len(BIG))
    [_cache, shared] = await b.check(SHA, len(BIG))
    assert (shared.ok, shared.message) == (False, "missing from database")


async def test_copy_between_stores_verifies_on_the_way(
    tmp_path: Path, db_store: DatabaseBlobStore, s3_store: S3BlobStore
) -> None:
    a = replica(tmp_path, "a", db_store)
    await a.put(BIG)
    assert await a.copy_to(s3_store, SHA, len(BIG)) is True
    assert await a.copy_to(s3_store, SHA, len(BIG)) is False  # already there
    c = replica(tmp_path, "c", s3_store)
    assert (await c.path(SHA, expected_size=len(BIG))).read_bytes() == BIG


def test_s3_urls_name_bucket_prefix_and_options_but_never_credentials() -> None:
    assert parse_s3_url("s3://b/p/q?endpoint_url=http://h:9000&region=eu") == (
        "b",
        "p/q",
        {"endpoint_url": "http://h:9000", "region": "eu"},
    )
    with pytest.raises(ConfigError, match="carries no credentials"):
        parse_s3_url("s3://key:secret@b/p")
    with pytest.raises(ConfigError, match="unknown option"):
        parse_s3_url("s3://b/p?acl=public")
    with pytest.raises(ConfigError, match="is not a URL"):  # urlsplit's ValueError was a 500
        parse_s3_url("s3://\u00c0]\u00a2]")
    with pytest.raises(ConfigError, match="not an S3 bucket name"):
        parse_s3_url("s3://b\u00e9\x02/p")


async def test_an_eval_set_registered_on_one_replica_loads_on_another(
    tmp_path: Path, db_store: DatabaseBlobStore, database: Database
) -> None:
    from bastion.evaluation.sets import EvalSetStore

    a = EvalSetStore(database, replica(tmp_path, "a", db_store), max_bytes=1 << 20)
    b_artifacts = replica(tmp_path, "b", db_store)
    b = EvalSetStore(database, b_artifacts, max_bytes=1 << 20)
    found, created = await a.register("golden", b"input,expected\nx,y\nz,w\n", filename="g.csv")
    assert created and not b_artifacts.cache.location(found.sha256).exists()
    loaded = await b.rows(await b.resolve("golden"))
    assert [(r.input, r.expected) for r in loaded] == [("x", "y"), ("z", "w")]
    assert b_artifacts.cache.location(found.sha256).exists()
