"""Wiring of the data layer: jobs, the OpenAI batches, data contracts and feature lookup."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from bastion.api import openai_batch as openai_batch_api
from bastion.data import QUARANTINED, DataService
from bastion.errors import BastionError
from bastion.features import EnrichStage, FeatureSource
from bastion.jobs import ChunkScorer, JobLedger, JobService, ScorerLimits
from bastion.jobs.batch_store import BatchStore
from bastion.jobs.batches import BatchService
from bastion.jobs.entities import Chunk, Job, RowError
from bastion.jobs.files import FileStore
from bastion.jobs.formats import read_chunks
from bastion.jobs.outputs import JobFiles
from bastion.monitoring.references import ReferenceStore
from bastion.observability.sinks import SignalSink
from bastion.pipeline import Next
from bastion.registry import Registry
from bastion.routing import DeploymentManager
from bastion.services import Services
from bastion.settings import Settings
from bastion.store import Database


def build_data(
    settings: Settings,
    db: Database,
    registry: Registry,
    deployments: DeploymentManager,
    signals: SignalSink | None,
) -> DataService:
    """Data contracts (rules learned from the training profile stored at registration)."""
    references = ReferenceStore(db)

    async def profile_of(deployment: str, version: int) -> Any:
        model = next(
            (d.model_name for d in settings.deployments if d.name == deployment), deployment
        )
        return await references.get(model, version)

    return DataService(settings.data, db, profile_of, signals=signals)


def job_screen(svc: Services) -> Any:
    """Batch rows against the deployment's data contract: bad rows go to the quarantine."""
    data = svc.data
    assert data is not None

    async def screen(
        job: Job, chunk: Chunk, rows: list[tuple[int, Any]]
    ) -> tuple[list[tuple[int, Any]], list[RowError]]:
        version = job.version
        if version is None and job.deployment not in svc.gateway:
            with contextlib.suppress(BastionError):
                version = svc.deployments.get(job.deployment).live().version
        span = range(chunk.first_row, chunk.first_row + chunk.rows)
        good, held = await data.screen(job.tenant, job.deployment, version, job.id, rows, span)
        return good, [RowError(r, QUARANTINED, m, rule) for r, rule, m in held]

    return screen


def job_precheck(settings: Settings, svc: Services) -> Any:
    """Before a job's first row: block it when its input's schema changed (if so declared)."""
    data = svc.data
    assert data is not None

    async def check(job: Job, files: JobFiles) -> str | None:
        contract = data.contracts.contract(job.deployment)
        if contract is None or contract.on_schema_change != "block":
            return None
        try:
            loaded = svc.deployments.get(job.deployment).live()
        except BastionError:
            return None
        first = await asyncio.to_thread(
            next, read_chunks(files.input, job.input_format, settings.data.sample_rows), None
        )
        rows = first.values if first is not None else []
        found = await data.diff(job.deployment, loaded.version, loaded.contract.input_schema, rows)
        return f"blocked_by_schema_change: {found.summary()}" if found.changes else None

    return check


def build_jobs(settings: Settings, svc: Services) -> JobService | None:
    """Batch jobs: the deployment pipeline as scorer, the usage log flushed per chunk."""
    if not settings.jobs.enabled:
        return None
    pipeline: Next = svc.pipeline
    limits = ScorerLimits(
        call_rows=settings.jobs.call_rows,  # job calls may exceed limits.max_batch
        concurrency=settings.jobs.concurrency,
        max_retries=settings.jobs.max_retries,
    )
    recorder = svc.governance.recorder if svc.governance is not None else None

    def known(name: str) -> bool:
        return name in svc.gateway or any(d.name == name for d in svc.deployments.all())

    return JobService(
        settings.jobs,
        JobLedger(svc.db),
        ChunkScorer(pipeline, limits, screen=job_screen(svc)),
        svc.keys,
        settings.data_dir / "jobs",
        known=known,
        flush_usage=recorder.flush if recorder is not None else None,
        precheck=job_precheck(settings, svc),
    )


def attach_data_layer(settings: Settings, svc: Services) -> None:
    svc.jobs = build_jobs(settings, svc)
    svc.batches = build_batches(settings, svc)
    if svc.alerts is not None and svc.data is not None:
        svc.alerts.add_source("quarantine_rate", svc.data.alert_source())


def enrich_stage(settings: Settings, features: FeatureSource) -> EnrichStage | None:
    """Feature lookup, only where a deployment declares a feature binding."""
    bindings = {b.deployment: b for b in settings.features.bindings}
    return EnrichStage(features, bindings) if bindings else None


def start_data_layer(svc: Services) -> None:
    builtin = svc.settings.features.source == "builtin"
    if svc.features is not None and svc.settings.features.bindings and builtin:
        svc.features.start()  # the in-process cache's refresh
    if svc.data is not None:
        svc.data.start()  # the quarantine's writer (only with a data contract declared)
    if svc.jobs is not None:
        svc.jobs.start()
    if svc.batches is not None:
        svc.batches.start()


def build_batches(settings: Settings, svc: Services) -> BatchService | None:
    """The OpenAI Files and Batch API: each line a call through the pipeline."""
    if not settings.jobs.enabled:
        return None
    recorder = svc.governance.recorder if svc.governance is not None else None
    caller = openai_batch_api.line_caller(
        svc.pipeline, settings.governance, svc.gateway.__contains__, svc.openai_check
    )
    return BatchService(
        BatchStore(svc.db),
        FileStore(svc.db, settings.data_dir / "files"),
        svc.keys,
        caller,
        flush_usage=recorder.flush if recorder is not None else None,
        concurrency=settings.jobs.concurrency * 2,
        lease_s=settings.jobs.lease_s,
        poll_interval_s=settings.jobs.poll_interval_s,
    )
