"""An eval run: load the model version in this process, run the set through it in batches,
score overall and per slice, store the report."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import structlog

from bastion.errors import BastionError, InvalidRequest, ModelOutputInvalid
from bastion.evaluation.base import LoadedModel, Loader, Observations
from bastion.evaluation.entities import EvalReport, EvalRow
from bastion.evaluation.outputs import scored_value
from bastion.evaluation.reports import ReportStore
from bastion.evaluation.scorers import build_scorers
from bastion.evaluation.scoring import score, score_slices, slice_gaps
from bastion.evaluation.sets import EvalSetStore
from bastion.registry import Registry
from bastion.settings.evaluation import EvaluationSettings

log = structlog.get_logger(__name__)


def split_model_ref(ref: str) -> tuple[str, str]:
    """``NAME@VERSION`` (a number, ``latest`` or an alias) → ``(name, version ref)``."""
    name, sep, version = ref.strip().partition("@")
    if not sep or not name or not version:
        raise InvalidRequest(
            f"{ref!r}: name the model version as NAME@VERSION, e.g. breast-cancer@2",
            details={"field": "model"},
        )
    return name, version


async def _observe(
    loaded: LoadedModel, rows: Sequence[EvalRow], batch_size: int, output_field: str | None
) -> Observations:
    values: list[Any] = []
    raw: list[Any] = []
    latency: list[float] = []
    for start in range(0, len(rows), batch_size):
        batch = rows[start : start + batch_size]
        where = f"rows {start + 1}-{start + len(batch)}"
        inputs = [r.input for r in batch]
        try:
            loaded.check_inputs(inputs, batched=True)
        except InvalidRequest as exc:
            raise InvalidRequest(f"eval set {where}: {exc.message}", details=exc.details) from exc
        began = time.perf_counter()
        predictions = await loaded.backend.infer(inputs)
        elapsed_ms = (time.perf_counter() - began) * 1000
        if len(predictions) != len(batch):
            raise ModelOutputInvalid(
                f"{where}: the model returned {len(predictions)} outputs for {len(batch)} inputs"
            )
        for p in predictions:
            raw.append(p.output)
            values.append(scored_value(p.output, output_field))
            latency.append(elapsed_ms)
    return Observations(values, raw, [r.expected for r in rows], latency)


class EvalRunner:
    def __init__(
        self,
        settings: EvaluationSettings,
        registry: Registry,
        sets: EvalSetStore,
        reports: ReportStore,
        loader: Loader,
    ) -> None:
        self._settings = settings
        self._registry = registry
        self._sets = sets
        self._reports = reports
        self._loader = loader

    async def run(
        self,
        model_ref: str,
        set_ref: str,
        *,
        scorers: Sequence[str] = (),
        output_field: str | None = None,
        created_by: str = "cli",
        allowed_modules: Sequence[str] | None = None,
        tenant: str | None = None,
    ) -> EvalReport:
        """Score ``NAME@VERSION`` on ``SET[@V]``; store and return the report.

        ``allowed_modules``: where custom scorers may come from (None: anywhere).
        """
        name, version_ref = split_model_ref(model_ref)
        record = await self._registry.resolve(name, version_ref)
        eval_set = await self._sets.resolve(set_ref)
        rows = await self._sets.rows(eval_set)  # the sha256 is checked before anything runs
        output_schema = (record.signature or {}).get("output_schema")
        built = build_scorers(
            scorers,
            [r.expected for r in rows],
            output_schema=output_schema if isinstance(output_schema, dict) else None,
            allowed_modules=allowed_modules,
        )
        field = output_field or self._settings.output_field
        loaded = await self._loader(record.name, record.version)
        began = time.perf_counter()
        try:
            obs = await _observe(loaded, rows, self._settings.batch_size, field)
        finally:
            try:
                await loaded.backend.aclose()
            except BastionError as exc:
                log.warning("eval_model_close_failed", model=name, error=exc.message)
        metrics = score(built, obs)
        slices = score_slices(built, obs, rows)
        report = await self._reports.add(
            record.name,
            record.version,
            eval_set,
            rows=len(rows),
            scorers=[s.name for s in built],
            metrics=metrics,
            slices=slices,
            gaps=slice_gaps(slices),
            params={
                "output_field": field,
                "batch_size": self._settings.batch_size,
                "duration_s": round(time.perf_counter() - began, 3),
            },
            created_by=created_by,
            tenant=tenant,
        )
        log.info(
            "eval_run_finished",
            model=record.name,
            version=record.version,
            set=eval_set.ref,
            report=report.id,
        )
        return report
