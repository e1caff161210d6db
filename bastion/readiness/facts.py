"""The server's facts for `bastion check`: what is configured and served, never a secret."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bastion.registry.aliases import alias_stack

if TYPE_CHECKING:
    from bastion.services import Services
    from bastion.settings import Settings


async def previous_version(svc: Services, model: str, alias: str) -> int | None:
    """The version a rollback of ``alias`` would go back to, or None."""
    events = await svc.registry.alias_history(model, alias)
    stack = alias_stack((e.action, e.version) for e in events)
    return stack[-2] if len(stack) >= 2 else None


async def _deployments(svc: Services) -> list[dict[str, Any]]:
    out = []
    for dep in svc.deployments.all():
        status = dep.status()
        model, alias = status["model"], status["alias"]
        out.append(
            {
                "name": status["name"],
                "model": model,
                "alias": alias,
                "version": status["version"],
                "previous_version": await previous_version(svc, model, alias),
            }
        )
    return out


def _gates(settings: Settings) -> dict[str, dict[str, dict[str, Any]]]:
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for model, aliases in settings.evaluation.gates.items():
        for alias, gate in aliases.items():
            sets = [t.set for t in gate.thresholds]
            if gate.no_regression is not None:
                sets += gate.no_regression.sets
            out.setdefault(model, {})[alias] = {
                "sets": sorted(set(sets)),
                "thresholds": len(gate.thresholds),
                "no_regression": gate.no_regression is not None,
                "approvals": gate.approvals,
                "shadow_agreement": gate.shadow_agreement is not None,
            }
    return out


async def facts(svc: Services) -> dict[str, Any]:
    """Everything the checks read from the configuration and the live deployments."""
    s = svc.settings
    enc = svc.encryptor
    return {
        "deployments": await _deployments(svc),
        "llm_groups": [
            {
                "name": g.name,
                "fallbacks": list(g.fallbacks),
                "context_fallback": g.context_fallback,
                "static_fallback": g.static_fallback is not None,
            }
            for g in s.llm.groups
        ],
        "budgets": [
            {
                "scope": b.scope,
                "window": b.window,
                "limit_usd": b.limit_usd,
                "limit_requests": b.limit_requests,
                "limit_tokens": b.limit_tokens,
                "thresholds": list(b.thresholds),
            }
            for b in s.governance.budgets.rules
        ],
        "alerts": {
            "enabled": s.alerts.enabled,
            "rules": [
                {"name": r.name, "kind": r.kind, "runbook_url": r.runbook_url}
                for r in s.alerts.rules
            ],
            "webhooks": [w.name for w in s.alerts.webhooks],
        },
        "security": {
            "tls": s.server.ssl_certfile is not None,
            "require_keys": s.security.require_keys,
            "jwt": s.security.jwt is not None,
            "encryption": {
                "key_ids": list(enc.key_ids) if enc is not None else [],
                "active": enc.active_key_id if enc is not None else None,
            },
        },
        "audit": {"enabled": s.audit.enabled and svc.audit is not None},
        "observability": {"metrics_enabled": svc.metrics is not None},
        "monitoring": {"enabled": svc.monitoring is not None},
        "gates": _gates(s),
        "review_policies": sorted({p.deployment for p in s.review.policies}),
        "readiness": s.operations.readiness.model_dump(),
        "capacity": s.operations.capacity.model_dump(),
    }
