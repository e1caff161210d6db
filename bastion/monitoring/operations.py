"""Drift operations of the admin API: reports, baselines (frozen or collected), refreshes."""

from __future__ import annotations

import asyncio
import functools
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import structlog

from bastion.errors import Conflict, InvalidRequest, NotFound
from bastion.monitoring.features import outcome_of
from bastion.monitoring.references import profile_items

if TYPE_CHECKING:
    from bastion.monitoring.monitor import DriftMonitor
    from bastion.monitoring.report import DriftReport
    from bastion.monitoring.service import MonitoringService

log = structlog.get_logger(__name__)


class DriftOperations:
    """What operators ask of drift; each call names the deployment and, optionally, a version
    (default: the version the deployment serves, else the last one given a reference)."""

    def __init__(self, service: MonitoringService) -> None:
        self._svc = service

    def _monitor(self) -> DriftMonitor:
        if self._svc.monitor is None:
            raise NotFound("drift monitoring is off (monitoring.drift.enabled: false)")
        return self._svc.monitor

    async def _version(self, deployment: str, version: int | None) -> tuple[str | None, int | None]:
        """(model, version): the given version (its model from the log when it is not served
        here), else the version served now; (None, None) when neither is known."""
        live = self._svc.live(deployment)
        if version is None:
            return (live[0], live[1]) if live else (None, None)
        if live is not None and live[1] == version:
            return live[0], version
        model = await self._svc.predictions.model_of(deployment, version)
        return (model or (live[0] if live else None)), version

    async def _served(self, deployment: str, version: int | None) -> tuple[str, int]:
        model, chosen = await self._version(deployment, version)
        if model is None or chosen is None:
            raise NotFound(
                f"deployment {deployment!r} serves no model version here, and no prediction of "
                "it was logged; name a --version that served traffic"
            )
        return model, chosen

    async def report(
        self,
        deployment: str,
        version: int | None = None,
        windows: int = 1,
        *,
        tenant: str | None = None,
    ) -> tuple[DriftReport, dict[str, Any] | None]:
        """The drift report of the open window (merged with ``windows - 1`` earlier ones) and
        where its reference came from; ``tenant``: that tenant's traffic only."""
        monitor = self._monitor()
        await self._svc.settle()
        model, chosen = await self._version(deployment, version)
        if model is not None and chosen is not None:
            await self._svc.ensure_reference(deployment, chosen, model)
        try:
            report = await asyncio.to_thread(
                functools.partial(monitor.report, windows=windows, tenant=tenant),
                deployment,
                chosen,
            )
        except NotFound as exc:
            shown = f"version {chosen}" if chosen is not None else "any version"
            raise NotFound(
                f"drift: {deployment} {shown} has no reference profile yet ({exc.message}); "
                "register the version with --training-data, or POST "
                f"/v1/admin/deployments/{deployment}/drift/baseline to make one from live traffic"
            ) from exc
        about = None
        if model is not None and report.version is not None:
            about = await self._svc.references.describe(model, report.version, deployment)
        if tenant is None:  # metrics and alerts watch the whole traffic
            self._svc.outlets.drift(report)
        return report, about

    async def freeze(
        self,
        deployment: str,
        *,
        version: int | None = None,
        since: datetime | None = None,
        actor: str = "system",
    ) -> dict[str, Any]:
        """Make the reference from the logged predictions of the live window (the last
        ``window_s`` seconds unless ``since``), store it and start monitoring against it."""
        monitor = self._monitor()
        model, chosen = await self._served(deployment, version)
        since = since or datetime.now(UTC) - timedelta(seconds=monitor.settings.window_s)
        await self._svc.settle()
        need = monitor.settings.min_samples
        rows = await self._svc.predictions.recent(
            deployment, chosen, since, self._svc.settings.drift.baseline_rows
        )
        usable = [
            r for r in rows if r.input_logged and r.mode in ("plain", "encrypted", "scrubbed")
        ]
        if len(usable) < need:
            why = (
                f"only {len(usable)} of its {len(rows)} logged predictions have readable inputs "
                "(inputs are not logged: set monitoring.prediction_log.inputs to 'policy')"
                if len(usable) < len(rows)
                else f"only {len(rows)} predictions were logged"
            )
            raise Conflict(
                f"cannot freeze a baseline for {deployment} v{chosen} since {since.isoformat()}: "
                f"{why}; a baseline needs at least {need}. Send more traffic, pass an earlier "
                "'since', or POST {\"rows\": N} to collect the next N live rows instead"
            )
        payloads = [self._svc.predictions.open(r) for r in usable]
        items = [p.get("input") for p in payloads]
        outcomes = [outcome_of(p.get("output")) for p in payloads]
        live = self._svc.live(deployment)
        encoder = self._svc.recorder_encoder()
        profile = await asyncio.to_thread(
            profile_items,
            items,
            predictions=[label if label is not None else value for label, value in outcomes],
            confidences=[r.confidence for r in usable],
            feature_names=live[2] if live else None,
            encoder=encoder,
            settings=monitor.settings,
        )
        source = await self._svc.references.put(
            model, chosen, profile, source="baseline", deployment=deployment, created_by=actor
        )
        monitor.set_reference(deployment, chosen, profile, source=source)
        details = {"version": chosen, "rows": len(usable), "since": since.isoformat()}
        await self._svc.outlets.audit(actor, "drift.baseline", deployment, details)
        log.info("drift_baseline_frozen", deployment=deployment, **details)
        return {"deployment": deployment, "source": "window", **details}

    async def collect(
        self, deployment: str, *, version: int | None = None, rows: int, actor: str = "system"
    ) -> dict[str, Any]:
        """Make the reference from the next ``rows`` live rows (stored once complete)."""
        monitor = self._monitor()
        model, chosen = await self._served(deployment, version)
        try:
            monitor.start_baseline(deployment, chosen, rows=rows)
        except ValueError as exc:
            raise InvalidRequest(f"rows: {exc}", details={"field": "rows"}) from exc
        self._svc.collecting[(deployment, chosen)] = model
        self._svc.recorder.collecting.add((deployment, chosen))
        details = {"version": chosen, "rows": rows}
        await self._svc.outlets.audit(actor, "drift.baseline", deployment, details)
        log.info("drift_baseline_started", deployment=deployment, **details)
        return {"deployment": deployment, "source": "next_rows", **details}

    async def persist_collected(self) -> None:
        """Store the live baselines that have completed since the last refresh."""
        monitor = self._svc.monitor
        if monitor is None:
            return
        for key, model in list(self._svc.collecting.items()):
            profile = monitor.reference(*key)
            if profile is None:
                continue
            source = await self._svc.references.put(
                model, key[1], profile, source="baseline", deployment=key[0], created_by="live"
            )
            monitor.tag(key[0], key[1], source)
            del self._svc.collecting[key]
            self._svc.recorder.collecting.discard(key)

    async def refresh(self) -> None:
        """Report each deployment's newest monitored version: gauges and alerts."""
        monitor = self._svc.monitor
        if monitor is None:
            return
        newest: dict[str, int] = {}
        for deployment, version in monitor.monitored():
            if monitor.reference(deployment, version) is not None:
                newest[deployment] = max(version, newest.get(deployment, version))
        for deployment, version in sorted(newest.items()):
            try:
                report = await asyncio.to_thread(monitor.report, deployment, version)
            except NotFound:
                continue
            self._svc.outlets.drift(report)
            await self._svc.outlets.drift_alert(report)
