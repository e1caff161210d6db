"""Config that cannot work, refused before anything starts: names that point at nothing, review
and rollout settings a target cannot honour, and ``BASTION_*`` variables nobody reads.

``config_problems(settings)`` needs only the settings (it runs in ``load_settings``, so every
command refuses the same config with the same one-line message naming the key);
``registry_warnings`` also needs what the registry holds (``bastion serve`` prints them after
migrating, before the banner: a model may be registered after the start, so they warn).
``unknown_env`` lists misspelt variables, each with the nearest real one, for a warning.
"""

from __future__ import annotations

import difflib
import typing
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

if TYPE_CHECKING:
    from bastion.settings import Settings

# Read by Bastion outside the settings tree (the CLI's client, tests' service switches).
OTHER_ENV = frozenset(
    {
        "BASTION_CONFIG",
        "BASTION_URL",
        "BASTION_KEY",
        "BASTION_PROFILE",
        "BASTION_REQUIRE_SERVICES",
        "BASTION_TEST_REDIS_URL",
        "BASTION_TEST_POSTGRES_URL",
        "BASTION_TEST_SLOW_S",
    }
)
SHORT_ENV = frozenset(
    {
        "BASTION_PORT",
        "BASTION_HOST",
        "BASTION_WORKERS",
        "BASTION_ADMIN_KEY",
        "BASTION_ENCRYPTION_KEYS",
        "BASTION_ENCRYPTION_KEY_FILE",
    }
)


# Flavors whose predictions never carry a confidence.
NO_CONFIDENCE = frozenset({"embedding"})


def near(name: str, known: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` for the closest of ``known`` to ``name``, else ``''``."""
    close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _nested(model: type[BaseModel], prefix: str) -> Iterable[str]:
    for name, field in model.model_fields.items():
        key = f"{prefix}__{name.upper()}" if prefix != "BASTION" else f"BASTION_{name.upper()}"
        yield key
        kinds = [field.annotation, *typing.get_args(field.annotation)]
        for kind in kinds:
            if isinstance(kind, type) and issubclass(kind, BaseModel):
                yield from _nested(kind, key)


def known_env(settings_cls: type[BaseModel]) -> frozenset[str]:
    return frozenset([*_nested(settings_cls, "BASTION"), *SHORT_ENV, *OTHER_ENV])


def unknown_env(settings_cls: type[BaseModel], environ: Mapping[str, str]) -> list[str]:
    """One warning per ``BASTION_*`` variable that no setting reads, naming the nearest."""
    known = known_env(settings_cls)
    found = []
    for var in sorted(environ):
        if var.startswith("BASTION_") and var not in known:
            deeper = any(var.startswith(k + "__") for k in known)  # inside a list or dict
            if not deeper:
                found.append(f"{var} is not a Bastion setting and is ignored{near(var, known)}")
    return found


def config_problems(settings: Settings) -> list[str]:
    """Every reference the settings alone can show to be broken, as ``key: what to do``."""
    groups = {g.name for g in settings.llm.groups}
    deployments = {d.name for d in settings.deployments}
    explicit = bool(deployments)
    problems: list[str] = []

    def names_a_target(key: str, name: str, *, llm_ok: bool = True) -> None:
        if name in groups and not llm_ok:
            problems.append(f"{key}: '{name}' is an LLM group, which this cannot apply to")
        elif explicit and name not in deployments and name not in groups:
            known = sorted(deployments | (groups if llm_ok else set()))
            problems.append(
                f"{key}: no deployment{' or LLM group' if llm_ok else ''} named '{name}'"
                f"{near(name, known)}; known: {', '.join(known)}"
            )

    for i, policy in enumerate(settings.review.policies):
        key = f"review.policies.{i}"
        names_a_target(f"{key}.deployment", policy.deployment)
        llm = policy.deployment in groups
        if llm and policy.fallback == "pending":
            problems.append(
                f"{key}.fallback: 'pending' cannot be sent in OpenAI's response shape on LLM "
                f"group '{policy.deployment}'; use 'model' or 'static'"
            )
        to = policy.escalate_to
        if to is not None:
            names_a_target(f"{key}.escalate_to.to", to.to)
            if llm != (to.to in groups):
                problems.append(
                    f"{key}.escalate_to.to: '{policy.deployment}' and '{to.to}' must both be LLM "
                    "groups or both deployments (an answer is asked of the same kind of model)"
                )
            if to.version is not None and to.to in groups:
                problems.append(f"{key}.escalate_to.version: LLM group '{to.to}' has no versions")
    for i, rollout in enumerate(settings.rollouts.deployments):
        names_a_target(f"rollouts.deployments.{i}.deployment", rollout.deployment, llm_ok=False)
    for i, monitored in enumerate(settings.monitoring.deployments):
        names_a_target(f"monitoring.deployments.{i}.deployment", monitored.deployment)
    return problems


def registry_warnings(
    settings: Settings, models: Mapping[str, Mapping[str, Any]], served: Iterable[str]
) -> list[str]:
    """References to models and versions the registry does not hold (yet: they may be
    registered after the start, so these are warnings, not refusals).

    ``models``: registered model name → ``{"versions": {n: flavor}}``; ``served``: the names
    served when no deployments are configured (every model with a production alias).
    """
    problems: list[str] = []
    names = sorted(models)
    for i, dep in enumerate(settings.deployments):
        if dep.model_name not in models:
            problems.append(
                f"deployments.{i}.model: no registered model named '{dep.model_name}'"
                f"{near(dep.model_name, names)}; register it first (bastion models register)"
            )
    deployment_models = {d.name: d.model_name for d in settings.deployments} or {
        n: n for n in served
    }
    for i, policy in enumerate(settings.review.policies):
        model = deployment_models.get(policy.deployment, policy.deployment)
        flavors = set(models.get(model, {}).get("versions", {}).values())
        if policy.confidence_below is not None and flavors and flavors <= NO_CONFIDENCE:
            problems.append(
                f"review.policies.{i}.confidence_below: model '{model}' ({', '.join(flavors)}) "
                "reports no confidence, so this trigger never fires"
            )
        to = policy.escalate_to
        if to is None or to.version is None:
            continue
        model = deployment_models.get(to.to, to.to)
        if to.version not in models.get(model, {}).get("versions", {}):
            problems.append(
                f"review.policies.{i}.escalate_to.version: model '{model}' has no version "
                f"{to.version}"
            )
    for i, rollout in enumerate(settings.rollouts.deployments):
        shadow = rollout.shadow
        model = deployment_models.get(rollout.deployment, rollout.deployment)
        wanted = shadow.version if shadow is not None else None
        if wanted is not None and wanted not in models.get(model, {}).get("versions", {}):
            problems.append(
                f"rollouts.deployments.{i}.shadow.version: model '{model}' has no version {wanted}"
            )
    for model in sorted(settings.evaluation.gates):
        if model not in models:
            problems.append(
                f"evaluation.gates.{model}: no registered model named '{model}'{near(model, names)}"
            )
    return problems


def missing_secrets(settings: Settings, environ: Mapping[str, str]) -> list[str]:
    """Upstream keys named by a variable that is not set (``bastion serve`` refuses them before
    its banner; other commands do not need them)."""
    problems = []
    for g, group in enumerate(settings.llm.groups):
        for u, upstream in enumerate(group.upstreams):
            var = upstream.api_key_env
            if var and not environ.get(var):
                problems.append(
                    f"llm.groups.{g}.upstreams.{u}.api_key_env: the variable {var} is not set; "
                    "export it, or use api_key_file"
                )
    return problems
