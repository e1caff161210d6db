"""ReviewService: the queue's rules — who may list, claim, decide and override, and what follows."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

import orjson
import structlog

from bastion.errors import BastionError, ConfigError, Forbidden, InvalidRequest, NotFound
from bastion.review import export as exporting
from bastion.review.completion import Completion, complete_correction
from bastion.review.corrections import check_correction
from bastion.review.entities import DECIDED_STATUS, Action, ReviewItem, Worker
from bastion.review.escalation import ModelEscalation, SlaWatcher
from bastion.review.hooks import Hooks
from bastion.review.intake import Intake
from bastion.review.leases import visible
from bastion.review.payload import PayloadCodec, Scrub
from bastion.review.policy import ReviewPolicy
from bastion.review.queue import ReviewQueue
from bastion.review.unreadable import Unreadable
from bastion.review.views import client_view, item_view, webhook_body
from bastion.review.webhooks import WebhookSender
from bastion.settings.review import ReviewSettings
from bastion.store import Database
from bastion.store.tables import utcnow

if TYPE_CHECKING:
    from bastion.gateway import Gateway
    from bastion.routing import DeploymentManager
    from bastion.security.encryption import Encryptor

log = structlog.get_logger(__name__)


class ReviewService:
    """Built once by the composition root, handed its optional collaborators: ``hooks``
    (feedback, audit, alerts, metrics, prediction log, actions) and the ``encryptor``."""

    def __init__(
        self,
        settings: ReviewSettings,
        db: Database,
        deployments: DeploymentManager,
        gateway: Gateway | None = None,
        *,
        scrub: Scrub | None = None,
        clock: Callable[[], datetime] = utcnow,
        rng: Callable[[], float] | None = None,
        hooks: Hooks | None = None,
        encryptor: Encryptor | None = None,
    ) -> None:
        self.settings = settings
        self.queue = ReviewQueue(db, clock)
        self.policies = {p.deployment: ReviewPolicy(p, rng) for p in settings.policies}
        self.hooks = hooks or Hooks()
        self._deployments = deployments
        self._scrub = scrub
        self.codec = PayloadCodec(encryptor, scrub)
        registry = getattr(self.hooks.metrics, "registry", None)
        self.unreadable = Unreadable(self.hooks.alerts, registry)
        if not self.codec.encrypts and self.policies:
            log.info("review_payloads_scrubbed", reason="no encryption key configured")
        secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else None
        self.webhooks = WebhookSender(
            attempts=settings.webhook_attempts,
            backoff_s=settings.webhook_backoff_s,
            timeout_s=settings.webhook_timeout_s,
            max_pending=settings.webhook_max_pending,
            secret=secret,
            on_outcome=self._webhook_outcome,
        )
        self.intake = Intake(self, ModelEscalation(deployments, gateway))
        self.sla = SlaWatcher(self.queue, settings, self._after_sla)
        _check_llm_fallbacks(self.policies, gateway)

    def policy(self, deployment: str) -> ReviewPolicy | None:
        return self.policies.get(deployment)

    # -- reads ---------------------------------------------------------------------------

    async def client_status(self, item_id: str, principal: Any) -> dict[str, Any]:
        """What a client sees of its own tenant's review: the status, then the answer."""
        worker = Worker.of(principal)
        item = visible(await self.queue.get(item_id), worker)
        return client_view(item, self.answer(item))

    def answer(self, item: ReviewItem, model_output: Any = None) -> Any:
        """The answer a decided item gives its client (None while pending)."""
        if item.pending:
            return None
        result = self.codec.open(item.id, item.result, item.encrypted) or {}
        if model_output is None:
            payload = self.codec.open(item.id, item.payload, item.encrypted) or {}
            model_output = payload.get("model_output")
        policy = self.policy(item.deployment)
        final = result.get("final_output")
        if policy is None:
            return final if item.status != "rejected" else None
        return policy.decided(item.status, item.id, model_output, final)

    async def browse(
        self, principal: Any, *, status: str | None, deployment: str | None, limit: int
    ) -> list[dict[str, Any]]:
        worker = _reviewer(principal)
        items = await self.queue.browse(worker, status=status, deployment=deployment, limit=limit)
        views = [self._view(i) for i in items]
        await self.unreadable.alert()
        return views

    async def show(self, item_id: str, principal: Any) -> dict[str, Any]:
        item = visible(await self.queue.get(item_id), _reviewer(principal))
        view = self._view(item)
        await self.unreadable.alert()
        return {**view, "history": await self.queue.events(item.id)}

    def _view(self, item: ReviewItem) -> dict[str, Any]:
        """The reviewer's view; an item whose payload cannot be opened is shown as
        unreadable (its id and why), counted and alerted on, never an error for the list."""
        try:
            payload = self.codec.open(item.id, item.payload, item.encrypted) or {}
            result = self.codec.open(item.id, item.result, item.encrypted) or {}
        except (BastionError, orjson.JSONDecodeError) as exc:
            reason = exc.message if isinstance(exc, BastionError) else f"not JSON: {exc}"
            view = item_view(item, {}, None)
            view["unreadable"] = self.unreadable.note(item.id, item.deployment, reason)
            return view
        view = item_view(item, payload, result.get("final_output"))
        view["completed_fields"] = result.get("completed", [])
        return view

    # -- queue actions -------------------------------------------------------------------

    async def claim(self, item_id: str | None, principal: Any, deployment: str | None) -> Any:
        worker = _reviewer(principal)
        if item_id is not None:
            return self._view(await self.queue.claim(item_id, worker, self.settings.lease_s))
        item = await self.queue.claim_next(worker, self.settings.lease_s, deployment)
        if item is None:
            raise NotFound("nothing to claim: your tenant's review queue has no free items")
        return self._view(item)

    async def release(self, item_id: str, principal: Any) -> dict[str, Any]:
        return self._view(await self.queue.release(item_id, _reviewer(principal)))

    async def decide(
        self, item_id: str, principal: Any, action: Action, output: Any, reason: str
    ) -> dict[str, Any]:
        worker = _reviewer(principal)
        reason = self._clean(reason.strip())
        if action != "approve" and not reason:
            raise InvalidRequest(
                f"reason: say why you {action} this item", details={"field": "reason"}
            )
        item = visible(await self.queue.get(item_id), worker)
        if action == "escalate":
            sla_s = self._sla_s(item.deployment)
            item = await self.queue.escalate(item.id, worker, reason, sla_s)
            await self._after(item, worker, "escalated", None, final=False)
            return self._view(item)
        payload = self.codec.open(item.id, item.payload, item.encrypted) or {}
        details = {"deployment": item.deployment, "request_id": item.request_id}
        if action == "correct":
            completion = await self._check(item, output)
            final = completion.output
            blob = self.codec.seal(item.id, _result(completion))
            details.update(_filled(completion))
        else:
            final = payload.get("model_output") if action == "approve" else None
            blob = self.codec.seal(item.id, {"final_output": final})
        status = DECIDED_STATUS[action]
        item = await self.queue.decide(item.id, worker, status, blob, reason, details)
        await self._after(item, worker, status, final, final=True)
        return self._view(item)

    async def override(
        self, request_id: str, principal: Any, *, index: int, output: Any, reason: str
    ) -> dict[str, Any]:
        """An operator's correction of any past prediction; it feeds accuracy like a review."""
        if not principal.has_any("operator"):
            raise Forbidden("overriding a prediction needs the role operator (or admin)")
        if not reason.strip():
            raise InvalidRequest("reason: say why you override it", details={"field": "reason"})
        worker = Worker.of(principal)
        item = await self.queue.find(request_id, index, worker)
        if item is None:
            item = await self.intake.from_log(request_id, index, worker)
        completion = await self._check(item, output)
        blob = self.codec.seal(item.id, _result(completion))
        details = {"deployment": item.deployment, "request_id": request_id, "index": index}
        details.update(_filled(completion))
        item = await self.queue.override(
            item.id, worker, blob, self._clean(reason.strip()), details
        )
        await self._after(item, worker, "overridden", completion.output, final=True)
        return self._view(item)

    def _clean(self, reason: str) -> str:
        """A reviewer's reason is free text: stored (and sent in events) PII-scrubbed."""
        return str(self._scrub(reason)) if self._scrub is not None and reason else reason

    async def _check(self, item: ReviewItem, output: Any) -> Completion:
        """What the reviewer gave, completed to the output contract (``completion.py``) and
        checked against it."""
        schema = None
        with contextlib.suppress(NotFound):  # an LLM group: no output contract to hold to
            dep = self._deployments.get(item.deployment)
            live = dep.current
            loaded = live if live and live.version == item.version else None
            if loaded is None:
                loaded = await self._deployments.pinned(item.deployment, item.version)
            schema = loaded.contract.output_schema
        completion = complete_correction(schema, output)
        check_correction(
            schema, completion.output, deployment=item.deployment, version=item.version
        )
        return completion

    def _sla_s(self, deployment: str) -> float:
        policy = self.policy(deployment)
        return policy.settings.sla_s if policy else 3600.0

    async def _after(
        self, item: ReviewItem, worker: Worker, status: str, final_output: Any, *, final: bool
    ) -> None:
        """Everything a decision sets off: waiters, accuracy, audit, alerts, the webhook."""
        if final:
            self.intake.decided(item.id)
            source = "override" if status == "overridden" else "review"
            label = final_output if status != "rejected" else None
            score = 0.0 if status == "rejected" else None
            await self.hooks.feedback_record(
                item, label=label, score=score, source=source, actor=worker.name
            )
            await self.hooks.sla_resolved(item)
            await self.hooks.actions_decided(item, status, final_output)
        action = "prediction.override" if status == "overridden" else f"review.{status}"
        target = item.request_id if status == "overridden" else item.id
        details = {"item": item.id, "deployment": item.deployment, "reason": item.reason}
        await self.hooks.audit_admin(worker, action, target, details)  # key id and tenant
        log.info("review_decided", item=item.id, status=status, actor=worker.name)
        self._notify(item, status, final_output)

    def _notify(self, item: ReviewItem, status: str, final_output: Any) -> None:
        policy = self.policy(item.deployment)
        url = (policy.settings.webhook_url if policy else None) or self.settings.webhook_url
        if url:
            body = webhook_body(item, status, final_output)
            self.webhooks.send(url, f"review.{status}", body, key=item.id)

    async def _webhook_outcome(self, item_id: str, details: dict[str, Any]) -> None:
        action = "webhook_delivered" if details["delivered"] else "webhook_failed"
        try:
            await self.queue.note(item_id, action, "system", details)
        except Exception:  # a background task: nobody else would see this error
            log.exception("review_webhook_note_failed", item=item_id)

    async def _after_sla(self, item: ReviewItem, what: str) -> None:
        if what == "sla_breached":
            await self.hooks.sla_breached(item)
        else:
            await self.hooks.audit_admin("system", "review.sla_escalated", item.id, {})
            self._notify(item, "sla_escalated", None)

    async def publish_backlog(self) -> None:
        """Set the ``review_backlog`` gauge (pending items per deployment)."""
        self.hooks.backlog(await self.queue.backlog(), set(self.policies))

    # -- export and lifecycle ------------------------------------------------------------

    async def export(
        self,
        principal: Any,
        fmt: exporting.ExportFormat,
        *,
        deployment: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> bytes:
        if not principal.has_any("reviewer", "approver", "operator"):
            raise Forbidden("export needs one of the roles reviewer, approver, operator, admin")
        items = await self.queue.decided(
            Worker.of(principal), deployment=deployment, since=since, until=until
        )
        records = []
        for item in items:
            payload = self.codec.open(item.id, item.payload, item.encrypted) or {}
            result = self.codec.open(item.id, item.result, item.encrypted) or {}
            records.append(exporting.record(item, payload, result.get("final_output")))
        if fmt == "parquet":
            return await asyncio.to_thread(exporting.to_parquet, records)
        return exporting.to_jsonl(records)

    async def run_sla(self) -> None:
        """The background sweeper (SLA escalation, backlog gauge); runs until cancelled."""
        await self.sla.run(self.publish_backlog)

    async def aclose(self) -> None:
        await self.webhooks.aclose()


def _result(completion: Completion) -> dict[str, Any]:
    """The stored result of a correction: the output and, when Bastion completed it, which
    fields it filled in and that their figures are a person's (``output_source: human``)."""
    result: dict[str, Any] = {"final_output": completion.output}
    result.update(_filled(completion))
    return result


def _filled(completion: Completion) -> dict[str, Any]:
    if not completion.filled:
        return {}
    return {"completed": list(completion.filled), "output_source": completion.source}


def _reviewer(principal: Any) -> Worker:
    worker = Worker.of(principal)
    if not worker.can_work():
        raise Forbidden("the review queue needs the role reviewer or approver (or admin)")
    return worker


def _check_llm_fallbacks(policies: dict[str, ReviewPolicy], gateway: Any) -> None:
    for name, policy in policies.items():
        if gateway is not None and name in gateway and policy.settings.fallback == "pending":
            raise ConfigError(
                f"review policy for LLM group '{name}': fallback 'pending' cannot be sent in "
                "OpenAI's response shape; use fallback 'model' or 'static'"
            )
