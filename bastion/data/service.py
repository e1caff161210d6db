"""The data layer of one server: contracts, the quarantine, its rate, and batch screening."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from bastion.data.contracts import DataContracts, ProfileOf
from bastion.data.diff import SchemaDiff, expected_fields, schema_diff
from bastion.data.quarantine import Quarantined, QuarantineStore, QuarantineWriter
from bastion.data.rate import QuarantineRate
from bastion.data.rules import check_row
from bastion.data.stage import DataValidateStage, SchemaWatchStage
from bastion.data.transforms import TransformStage, load_transforms
from bastion.data.watch import SchemaWatch
from bastion.errors import BastionError
from bastion.pipeline import Call, Next
from bastion.settings.data import DataSettings
from bastion.store import Database

if TYPE_CHECKING:
    from bastion.observability.alerts.sources import Source
    from bastion.observability.sinks import SignalSink
    from bastion.settings.alerts import AlertRuleSettings

QUARANTINED = "quarantined"


class DataService:
    def __init__(
        self,
        settings: DataSettings,
        db: Database,
        profile_of: ProfileOf | None = None,
        *,
        signals: SignalSink | None = None,
    ) -> None:
        """``signals``: where schema diffs go as ``schema_change`` gauges (alerts, when on)."""
        self.settings = settings
        self.contracts = DataContracts(settings, profile_of)
        self.store = QuarantineStore(db)
        self.writer = QuarantineWriter(self.store, settings.flush_interval_s)
        self.rate = QuarantineRate(settings.rate_window_s)
        self.transforms = load_transforms(settings.transforms, settings.transform_modules)
        self._profile_of = profile_of
        self.reported: dict[str, SchemaDiff] = {}
        self._gauge = signals
        self.watch = SchemaWatch(settings.watch_window, settings.watch_every, self.report)

    def report(self, deployment: str, diff: SchemaDiff) -> None:
        """Keep the newest diff of ``deployment``; an alert signal (``schema_change``)."""
        self.reported[deployment] = diff
        if self._gauge is not None:
            details = {"summary": diff.summary(), "rows": diff.rows}
            self._gauge.set_gauge("schema_change", deployment, float(diff.changes),
                                  samples=diff.rows, details=details)  # fmt: skip

    async def diff(
        self,
        deployment: str,
        version: int | None,
        schema: Any,
        rows: Sequence[Any],
    ) -> SchemaDiff:
        """Compare ``rows`` with the version's input schema and training profile; report it."""
        profile = None
        if self._profile_of is not None and version is not None:
            profile = await self._profile_of(deployment, version)
        found = schema_diff(rows, expected_fields(schema, profile), profile)
        self.report(deployment, found)
        return found

    def stage(self) -> DataValidateStage | None:
        """The pipeline stage, or None when no deployment declares a contract."""
        if not self.contracts:
            return None
        return DataValidateStage(self.contracts, self.writer, self.rate)

    def transform_stage(self) -> TransformStage | None:
        """Each bound deployment's preprocessing (absent when none is bound)."""
        return TransformStage(self.transforms) if self.transforms else None

    def watch_stage(self) -> SchemaWatchStage | None:
        """The live schema watch (before the input schema), or None without a contract."""
        return SchemaWatchStage(self.contracts, self.watch) if self.contracts else None

    def start(self) -> None:
        if self.contracts:
            self.writer.start()

    async def aclose(self) -> None:
        await self.writer.aclose()

    async def screen(
        self,
        tenant: str | None,
        deployment: str,
        version: int | None,
        source: str,
        rows: Sequence[tuple[int, Any]],
        span: range,
    ) -> tuple[list[tuple[int, Any]], list[tuple[int, str, str]]]:
        """A batch chunk's rows split into good ones and quarantined ones.

        Every breaking row goes to the quarantine (no cap), replacing whatever an earlier
        run of the same chunk (``span``) left there; returns ``(good, [(row, rule, msg)])``.
        """
        if deployment not in self.contracts:
            return list(rows), []
        rules = (
            await self.contracts.ready(deployment, version)
            if version
            else (self.contracts.rules(deployment, None))
        )
        good, held, refused = [], [], []
        for row, value in rows:
            violations = check_row(rules, value)
            if not violations:
                good.append((row, value))
                continue
            held.append(
                Quarantined(tenant, deployment, version, source, "", row, value, violations)
            )
            refused.append((row, violations[0].rule, violations[0].message))
        await self.store.forget(source, span)
        await self.store.add(held)
        self.rate.count(deployment, len(rows), len(held))
        return good, refused

    async def replay(self, pipeline: Next, principal: Any, item: dict[str, Any]) -> dict[str, Any]:
        """Check a held row against today's contract and, if it passes, answer it."""
        rules = self.contracts.rules(item["deployment"], item["version"])
        violations = check_row(rules, item["input"])
        if violations:
            return {"id": item["id"], "status": "held", "reasons": [v.view() for v in violations]}
        call = Call(
            request_id=f"replay-{item['id']}-{time.time_ns()}",
            deployment=item["deployment"],
            api="replay",
            inputs=[item["input"]],
            batched=False,
            started_at=time.perf_counter(),
            principal=principal,
        )
        try:
            result = await pipeline(call)
        except BastionError as exc:
            return {"id": item["id"], "status": "held", "error": f"{exc.type}: {exc}"}
        await self.store.set_status([item["id"]], "replayed")
        pred = result.predictions[0]
        return {
            "id": item["id"],
            "status": "replayed",
            "output": pred.output,
            "confidence": pred.confidence,
            "version": result.version,
        }

    def alert_source(self) -> Source:
        """An alert source for ``quarantine_rate`` rules (share of rows quarantined)."""
        from bastion.observability.alerts.rules import Measure

        async def read(rule: AlertRuleSettings) -> dict[str, Measure]:
            return {
                dep: Measure(rate, checked, details)
                for dep, (rate, checked, details) in self.rate.rates().items()
            }

        return read
