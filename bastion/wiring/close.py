"""close_services: stop every service in the order that loses nothing still queued."""

from __future__ import annotations

from bastion.observability import close_observability
from bastion.services import Services


async def close_services(svc: Services) -> None:
    if svc.jobs is not None:
        await svc.jobs.aclose()  # running jobs stop between calls; their leases lapse
    if svc.batches is not None:
        await svc.batches.aclose()
    await svc.data.aclose()
    await svc.features.aclose()  # writes the quarantined rows still queued
    if svc.rag is not None:
        await svc.rag.aclose()  # stops the freshness checks; index builds finish
    await svc.cache.aclose()
    await svc.gateway.aclose()
    await svc.rollouts.aclose()  # stops shadow workers, flushes stats, frees the lease
    await svc.deployments.aclose()
    if svc.prompts is not None:
        await svc.prompts.aclose()  # stops following prompt alias changes
    await svc.review.aclose()  # lets webhooks in flight finish (bounded)
    if svc.monitoring is not None:
        await svc.monitoring.aclose()  # writes the predictions still queued, saves drift windows
    await close_observability(svc.metrics, svc.tracing)
    await svc.alerts.aclose()  # stops evaluating; notifications in flight finish (bounded)
    await svc.governance.aclose()  # writes the last usage records, closes Redis
    await svc.async_requests.aclose()  # lets ?async=true runs in flight finish (bounded)
    if svc.actions is not None:
        await svc.actions.aclose()  # stops the dispatcher and intake; closes destinations
    svc.refusals.close()  # the count of refusals not audited one by one
    if svc.audit is not None:
        await svc.audit.aclose()  # commits the records still queued (bounded)
    await svc.authenticator.aclose()  # a JWKS refetch still running
    await svc.artifacts.aclose()  # the S3 client, when the store is a bucket
    await svc.db.aclose()
