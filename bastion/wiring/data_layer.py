"""Wiring of the data layer: jobs, the OpenAI batches, data contracts and feature lookup."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from bastion.api import openai_batch as openai_batch_api
from bastion.contracts.openai import OpenAIRequestCheck
from bastion.data import QUARANTINED, DataService
from bastion.errors import BastionError
from bastion.features import EnrichStage, FeatureSource
from bastion.gateway import Gateway
from bastion.governance.usage import UsageRecorder
from bastion.jobs import ChunkScorer, JobLedger, JobService, ScorerLimits
from bastion.jobs.batch_store import BatchStore
from bastion.jobs.batches import BatchService
from bastion.jobs.columnar import ColumnPlan, column_plan
from bastion.jobs.entities import Chunk, Job, RowError
from bastion.jobs.files import FileStore
from bastion.jobs.formats import read_chunks
from bastion.jobs.outputs import JobFiles
from bastion.jobs.scorer import Screen
from bastion.jobs.typed import output_plan
from bastion.monitoring.references import ReferenceStore
from bastion.observability.sinks import SignalSink
from bastion.pipeline import Next
from bastion.registry import Registry
from bastion.routing import DeploymentManager
from bastion.security import KeyStore
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


def job_screen(data: DataService, deployments: DeploymentManager, gateway: Gateway) -> Screen:
    """Batch rows against the deployment's data contract: bad rows go to the quarantine."""

    async def screen(
        job: Job, chunk: Chunk, rows: list[tuple[int, Any]]
    ) -> tuple[list[tuple[int, Any]], list[RowError]]:
        version = job.version
        if version is None and job.deployment not in gateway:
            with contextlib.suppress(BastionError):
                version = deployments.get(job.deployment).live().version
        span = range(chunk.first_row, chunk.first_row + chunk.rows)
        good, held = await data.screen(job.tenant, job.deployment, version, job.id, rows, span)
        return good, [RowError(r, QUARANTINED, m, rule) for r, rule, m in held]

    return screen


def job_columns(data: DataService, deployments: DeploymentManager, gateway: Gateway) -> ColumnPlan:
    """Which jobs' Parquet chunks may take the columnar path (bastion/jobs/columnar.py)."""
    return column_plan(deployments, data.contracts, gateway)


def job_precheck(
    settings: Settings, data: DataService, deployments: DeploymentManager
) -> Callable[[Job, JobFiles], Awaitable[str | None]]:
    """Before a job's first row: block it when its input's schema changed (if so declared)."""

    async def check(job: Job, files: JobFiles) -> str | None:
        contract = data.contracts.contract(job.deployment)
        if contract is None or contract.on_schema_change != "block":
            return None
        try:
            loaded = deployments.get(job.deployment).live()
        except BastionError:
            return None
        first = await asyncio.to_thread(
            next, read_chunks(files.input, job.input_format, settings.data.sample_rows), None
        )
        rows = first.values if first is not None else []
        found = await data.diff(job.deployment, loaded.version, loaded.contract.input_schema, rows)
        return f"blocked_by_schema_change: {found.summary()}" if found.changes else None

    return check


@dataclass(frozen=True, slots=True)
class JobInputs:
    """What batch jobs and the OpenAI batches are built from (all built before them)."""

    db: Database
    pipeline: Next
    keys: KeyStore
    gateway: Gateway
    deployments: DeploymentManager
    data: DataService
    openai_check: OpenAIRequestCheck
    recorder: UsageRecorder | None  # the usage log, flushed per chunk (None: not recorded)


def build_jobs(settings: Settings, given: JobInputs) -> JobService | None:
    """Batch jobs: the deployment pipeline as scorer, the usage log flushed per chunk."""
    if not settings.jobs.enabled:
        return None
    limits = ScorerLimits(
        call_rows=settings.jobs.call_rows,  # job calls may exceed limits.max_batch
        columnar_call_rows=settings.jobs.columnar_call_rows,
        concurrency=settings.jobs.concurrency,
        max_retries=settings.jobs.max_retries,
        per_deployment={d.name: d.max_batch for d in settings.deployments if d.max_batch},
    )
    gateway, deployments = given.gateway, given.deployments

    def known(name: str) -> bool:
        return name in gateway or any(d.name == name for d in deployments.all())

    return JobService(
        settings.jobs,
        JobLedger(given.db),
        ChunkScorer(
            given.pipeline,
            limits,
            screen=job_screen(given.data, deployments, gateway),
            columns=job_columns(given.data, deployments, gateway),
        ),
        given.keys,
        settings.data_dir / "jobs",
        known=known,
        flush_usage=given.recorder.flush if given.recorder is not None else None,
        precheck=job_precheck(settings, given.data, deployments),
        outputs=output_plan(deployments, gateway),  # a classifier's typed output columns
    )


def build_batches(settings: Settings, given: JobInputs) -> BatchService | None:
    """The OpenAI Files and Batch API: each line a call through the pipeline."""
    if not settings.jobs.enabled:
        return None
    caller = openai_batch_api.line_caller(
        given.pipeline, settings.governance, given.gateway.__contains__, given.openai_check
    )
    return BatchService(
        BatchStore(given.db),
        FileStore(given.db, settings.data_dir / "files"),
        given.keys,
        caller,
        flush_usage=given.recorder.flush if given.recorder is not None else None,
        concurrency=settings.jobs.concurrency * 2,
        lease_s=settings.jobs.lease_s,
        poll_interval_s=settings.jobs.poll_interval_s,
    )


def enrich_stage(settings: Settings, features: FeatureSource) -> EnrichStage | None:
    """Feature lookup, only where a deployment declares a feature binding."""
    bindings = {b.deployment: b for b in settings.features.bindings}
    return EnrichStage(features, bindings) if bindings else None


def start_data_layer(svc: Services) -> None:
    if svc.settings.features.bindings and svc.settings.features.source == "builtin":
        svc.features.start()  # the in-process cache's refresh
    svc.data.start()  # the quarantine's writer (only with a data contract declared)
    if svc.jobs is not None:
        svc.jobs.start()
    if svc.batches is not None:
        svc.batches.start()
