"""The jobs service of one server: create jobs from uploads, run and resume them, cancel.

Jobs are owned by the tenant of the key that created them; every read filters by the
caller's tenant (another tenant's job is a 404). A background loop claims queued jobs and
jobs whose lease lapsed (their process died), so a job killed with kill -9 resumes on the
next start — or on another replica — within ``lease_s`` + ``poll_interval_s``.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import secrets
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

import structlog

from bastion.errors import BastionError, Conflict, InvalidRequest, NotFound
from bastion.jobs.columnar import JobDraft
from bastion.jobs.entities import ENGINES, FORMATS, Job
from bastion.jobs.formats import count_rows, sniff_format
from bastion.jobs.ledger import JobLedger
from bastion.jobs.local import local_chunks
from bastion.jobs.outputs import JobFiles
from bastion.jobs.owner import owner_of
from bastion.jobs.ray_engine import RayRuntime, ray_available
from bastion.jobs.runner import ChunkSource, JobRunner
from bastion.jobs.scorer import ChunkScorer, JobHalted
from bastion.jobs.typed import OutputPlan
from bastion.security import KeyStore, Principal, require_deployment
from bastion.settings.jobs import JobsSettings

log = structlog.get_logger(__name__)


class JobService:
    def __init__(
        self,
        settings: JobsSettings,
        ledger: JobLedger,
        scorer: ChunkScorer,
        keys: KeyStore,
        root: Path,
        *,
        known: Callable[[str], bool],
        flush_usage: Callable[[], Awaitable[Any]] | None = None,
        precheck: Callable[[Job, JobFiles], Awaitable[str | None]] | None = None,
        outputs: OutputPlan | None = None,
    ) -> None:
        self._precheck = precheck
        self._outputs = outputs
        self.settings = settings
        self.ledger = ledger
        self._keys = keys
        self._root = root
        self._known = known
        self._owner = f"jobs-{secrets.token_hex(6)}"
        self._scorer = scorer
        self._runner = JobRunner(
            ledger, scorer, owner=self._owner, lease_s=settings.lease_s, flush_usage=flush_usage
        )
        self._ray = RayRuntime(settings)
        self._running: dict[str, asyncio.Task[None]] = {}
        self._loop: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()

    def files(self, job: Job) -> JobFiles:
        classes = job.options.get("output_classes")  # typed columns (jobs/typed.py)
        return JobFiles(self._root / job.id, job.input_format, job.output_format, classes)

    # -- create, read, cancel (the admin API) ---------------------------------------------

    def check_new(
        self, principal: Principal, deployment: str, engine: str, output_format: str
    ) -> None:
        """Everything a create can refuse before any byte is stored."""
        require_deployment(principal, deployment)
        if not self._known(deployment):
            raise NotFound(f"no deployment '{deployment}'; see GET /v1/deployments")
        if engine not in ENGINES:
            raise InvalidRequest(
                f"engine: '{engine}' is not one of {', '.join(ENGINES)}",
                details={"field": "engine"},
            )
        if engine == "ray" and not ray_available():
            raise InvalidRequest(
                "engine: ray is not installed in this server; pip install 'bastion[ray]'",
                details={"field": "engine"},
            )
        if output_format not in FORMATS:
            raise InvalidRequest(
                f"output_format: '{output_format}' is not one of {', '.join(FORMATS)}",
                details={"field": "output_format"},
            )

    async def create(
        self,
        principal: Principal,
        body: AsyncIterator[bytes],
        *,
        deployment: str,
        filename: str,
        input_format: str | None = None,
        output_format: str = "parquet",
        engine: str = "local",
        version: int | None = None,
        kind: str = "batch",
        options: dict[str, Any] | None = None,
    ) -> Job:
        """Store the uploaded input, then the job (queued). A refused upload leaves nothing."""
        fmt = sniff_format(filename, input_format)
        self.check_new(principal, deployment, engine, output_format)
        job_id = f"job_{secrets.token_hex(8)}"
        files = JobFiles(self._root / job_id, fmt, output_format)
        files.root.mkdir(parents=True, exist_ok=True)
        options = {**(options or {}), "principal": _snapshot(principal)}
        chunk_rows = self.settings.chunk_rows
        draft = JobDraft(deployment, version, options)
        classes = self._outputs(draft) if self._outputs is not None else None
        if output_format == "parquet" and classes:  # fixed for the job: a resume writes the same
            options["output_classes"] = classes
        columnar = fmt == "parquet" and self._scorer.columnar(draft)
        if columnar:
            chunk_rows = self.settings.columnar_chunk_rows  # Arrow columns: a larger chunk
        try:
            digest = await _store(body, files.input)
            if columnar:  # a columnar call's audit record names its rows in this file
                options["input_sha256"] = digest
            rows = await asyncio.to_thread(count_rows, files.input, fmt)
            if rows == 0:
                raise InvalidRequest(f"the input '{filename}' holds no rows")
            job = await self.ledger.create(
                id=job_id,
                tenant=principal.tenant,
                key_id=principal.key_id,
                created_by=principal.name,
                kind=kind,
                deployment=deployment,
                version=version,
                engine=engine,
                status="queued",
                input_format=fmt,
                output_format=output_format,
                filename=filename[:255],
                chunk_rows=chunk_rows,
                rows_total=rows,
                options=options,
            )
        except BaseException:
            shutil.rmtree(files.root, ignore_errors=True)
            raise
        self._wake.set()
        return job

    async def create_backfill(
        self,
        principal: Principal,
        export: Callable[[Path], Awaitable[int]],
        *,
        deployment: str,
        version: int,
        rows_per_s: float | None,
        source: dict[str, Any],
    ) -> Job:
        """A backfill of logged history: ``export`` writes the rows (eval-set shaped)."""
        self.check_new(principal, deployment, "local", "parquet")
        staging = self._root / f"export-{secrets.token_hex(6)}.jsonl"
        self._root.mkdir(parents=True, exist_ok=True)
        try:
            if await export(staging) == 0:
                raise InvalidRequest(f"no logged inputs of '{deployment}' in that period")

            async def body() -> AsyncIterator[bytes]:
                with staging.open("rb") as fh:
                    while block := fh.read(1 << 20):
                        yield block

            return await self.create(
                principal, body(), deployment=deployment, filename="history.jsonl",
                version=version, kind="backfill",
                options={"input_field": "input", "rows_per_s": rows_per_s, "source": source},
            )  # fmt: skip
        finally:
            staging.unlink(missing_ok=True)

    def report(self, job: Job) -> Path:
        if job.kind != "backfill" or job.status != "succeeded":
            raise Conflict(f"job '{job.id}' is a {job.status} {job.kind}; reports are of "
                           "backfills that succeeded")  # fmt: skip
        return self.files(job).root / "report.json"

    async def get(self, principal: Principal, job_id: str) -> Job:
        job = await self.ledger.get(job_id)
        if job.tenant is not None and not principal.sees_tenant(job.tenant):
            raise NotFound(f"no job '{job_id}'; see `bastion batch list`")
        return job

    async def list_jobs(self, principal: Principal, limit: int = 100) -> list[Job]:
        return await self.ledger.list_jobs(
            principal.tenant, all_tenants=principal.is_admin, limit=limit
        )

    async def cancel(self, principal: Principal, job_id: str) -> Job:
        job = await self.get(principal, job_id)
        if job.finished:
            raise Conflict(f"job '{job_id}' is already {job.status}; nothing to cancel")
        # a queued job nobody claimed ends here; one a runner holds (here or in another
        # replica, maybe not yet started) is asked to stop before its next chunk
        if job.status != "queued" or not await self.ledger.cancel_unclaimed(
            job_id, "cancelled before it started"
        ):
            await self.ledger.request_cancel(job_id)
        return await self.ledger.get(job_id)

    def output(self, job: Job, which: str) -> Path:
        if job.status != "succeeded":
            raise Conflict(f"job '{job.id}' is {job.status}; its files exist once it succeeded")
        files = self.files(job)
        return files.errors if which == "errors" else files.output

    # -- running ----------------------------------------------------------------------------

    def start(self) -> None:
        if self._loop is None and self.settings.enabled:
            self._loop = asyncio.create_task(self._claim_loop(), name="jobs")

    async def _claim_loop(self) -> None:
        while True:
            with contextlib.suppress(BastionError, OSError):
                for job in await self.ledger.claim(self._owner, self.settings.lease_s):
                    if job.id not in self._running:
                        task = asyncio.create_task(self._run(job), name=f"job-{job.id}")
                        self._running[job.id] = task
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.settings.poll_interval_s)
            self._wake.clear()

    async def _run(self, job: Job) -> None:
        try:
            principal = await self._principal(job)
            if self._precheck is not None and job.rows_done == 0:
                blocked = await self._precheck(job, self.files(job))
                if blocked is not None:  # e.g. the input's schema changed: score nothing
                    log.warning("job_blocked", job=job.id, reason=blocked)
                    await self.ledger.set_status(job.id, "failed", blocked)
                    return
            source: ChunkSource = local_chunks
            if job.engine == "ray":
                await asyncio.to_thread(self._ray.ensure)
                source = self._ray.chunks
            finish = _write_report if job.kind == "backfill" else None
            await self._runner.run(job, principal, self.files(job), source, finish)
        except JobHalted as exc:
            log.warning("job_halted", job=job.id, error=str(exc))
            await self.ledger.set_status(job.id, "failed", str(exc))
        except asyncio.CancelledError:
            raise  # the server is stopping: the lease lapses and the job resumes later
        except Exception as exc:  # a job's failure must not take the server down
            log.exception("job_failed", job=job.id)
            await self.ledger.set_status(job.id, "failed", f"{type(exc).__name__}: {exc}")
        finally:
            self._running.pop(job.id, None)

    async def _principal(self, job: Job) -> Principal:
        """The job's owner now: a revoked or expired key halts the job."""
        return await owner_of(self._keys, job.key_id, job.options.get("principal"), job.id)

    async def aclose(self) -> None:
        tasks = [t for t in (self._loop, *self._running.values()) if t is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._loop = None


def _snapshot(principal: Principal) -> dict[str, Any]:
    snap = asdict(principal)
    snap["roles"] = sorted(principal.roles)
    snap["deployments"] = sorted(principal.deployments) if principal.deployments else None
    return snap


def _write_report(files: JobFiles) -> None:
    import orjson

    from bastion.jobs.backfill import compare
    from bastion.jobs.outputs import atomic_path

    with atomic_path(files.root / "report.json") as tmp:
        tmp.write_bytes(orjson.dumps(compare(files), option=orjson.OPT_INDENT_2))


_STORE_BLOCK = 1 << 20


async def _store(body: AsyncIterator[bytes], path: Path) -> str:
    """Write a streamed upload to ``path`` off the event loop, a MiB at a time: the pieces
    an upload arrives in (64 KiB from an HTTP body, less from some clients) are gathered
    first, so a large file costs a few hundred thread hops, not one per piece. Returns the
    sha256 of the file's bytes (hashed with them, in the same thread hops)."""
    digest = hashlib.sha256()

    def write(pieces: list[bytes]) -> None:
        for piece in pieces:
            digest.update(piece)
        fh.writelines(pieces)

    with path.open("wb") as fh:
        pending: list[bytes] = []
        held = 0
        async for block in body:
            pending.append(block)
            held += len(block)
            if held >= _STORE_BLOCK:
                await asyncio.to_thread(write, pending)
                pending, held = [], 0
        if held:
            await asyncio.to_thread(write, pending)
    return digest.hexdigest()
