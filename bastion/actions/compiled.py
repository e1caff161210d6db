"""Actions compiled once at start: conditions and templates ready, destinations checked."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bastion.actions.condition import Condition, compile_condition
from bastion.actions.template import Render, compile_template
from bastion.errors import ConfigError
from bastion.settings.actions import (
    ActionSettings,
    ActionsSettings,
    ConflictPolicy,
    StepCallSettings,
)


@dataclass(frozen=True, slots=True)
class CompiledCall:
    """One call to one destination with its templates compiled."""

    destination: str
    settings: StepCallSettings
    body: Render
    path: Render
    headers: Render
    if_match: Render | None
    subject: Render | None
    params: Render

    def render(self, ctx: Mapping[str, Any]) -> dict[str, Any]:
        """Everything templated, rendered (what ``bastion actions show`` can display)."""
        out: dict[str, Any] = {"destination": self.destination, "body": self.body(ctx)}
        if self.settings.path:
            out["path"] = self.path(ctx)
        if self.subject is not None:
            out["subject"] = self.subject(ctx)
        if self.settings.statement:
            out["params"] = self.params(ctx)
        return out


@dataclass(frozen=True, slots=True)
class CompiledStep:
    name: str
    call: CompiledCall
    compensate: CompiledCall | None


@dataclass(frozen=True, slots=True)
class CompiledAction:
    deployment: str
    name: str
    condition: Condition
    steps: tuple[CompiledStep, ...]
    max_attempts: int
    on_conflict: ConflictPolicy


def compile_call(call: StepCallSettings, where: str) -> CompiledCall:
    return CompiledCall(
        destination=call.destination,
        settings=call,
        body=compile_template(call.body, f"{where}.body"),
        path=compile_template(call.path, f"{where}.path"),
        headers=compile_template(dict(call.headers), f"{where}.headers"),
        if_match=compile_template(call.if_match, f"{where}.if_match") if call.if_match else None,
        subject=compile_template(call.subject, f"{where}.subject") if call.subject else None,
        params=compile_template(dict(call.params), f"{where}.params"),
    )


def compile_action(deployment: str, action: ActionSettings) -> CompiledAction:
    where = f"actions.deployments.{deployment}.{action.name}"
    try:
        condition = compile_condition(action.when)
    except ConfigError as exc:
        raise ConfigError(f"{where}.when: {exc.message}") from exc
    steps = []
    for step in action.steps:
        at = f"{where}.steps.{step.name}"
        comp = compile_call(step.compensate, f"{at}.compensate") if step.compensate else None
        steps.append(CompiledStep(step.name, compile_call(step, at), comp))
    return CompiledAction(
        deployment=deployment,
        name=action.name,
        condition=condition,
        steps=tuple(steps),
        max_attempts=action.max_attempts,
        on_conflict=action.on_conflict,
    )


class Catalog:
    """Every deployment's compiled actions; the act stage and the dispatcher read it."""

    def __init__(self, settings: ActionsSettings) -> None:
        self._by_deployment: dict[str, tuple[CompiledAction, ...]] = {}
        for deployment, actions in settings.deployments.items():
            compiled = tuple(compile_action(deployment, a) for a in actions)
            self._by_deployment[deployment] = compiled
        self._by_name = {
            (a.deployment, a.name): a for acts in self._by_deployment.values() for a in acts
        }
        kinds: dict[str, str] = {name: d.kind for name, d in settings.destinations.items()}
        for action in self._by_name.values():
            _check_kinds(action, settings, kinds)

    def of(self, deployment: str) -> tuple[CompiledAction, ...] | None:
        return self._by_deployment.get(deployment)

    def find(self, deployment: str, name: str) -> CompiledAction | None:
        return self._by_name.get((deployment, name))

    @property
    def deployments(self) -> frozenset[str]:
        return frozenset(self._by_deployment)


def _check_kinds(action: CompiledAction, settings: ActionsSettings, kinds: dict[str, str]) -> None:
    for step in action.steps:
        for call in (step.call, step.compensate):
            if call is None:
                continue
            kind = kinds[call.destination]
            where = f"action {action.deployment}/{action.name}, step {step.name}"
            if kind == "sql" and not call.settings.statement:
                raise ConfigError(f"{where}: a sql destination needs a statement")
            if kind == "nats" and not call.settings.subject:
                raise ConfigError(f"{where}: a nats destination needs a subject")
