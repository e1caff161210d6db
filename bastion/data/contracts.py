"""Each deployment's data contract, compiled once; learned rules cached per served version.

The request path never touches the database here: the rules learned from a version's
training profile are loaded in the background the first time that version is seen (until
then only the configured rules apply) and kept in process.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

import structlog

from bastion.data.profile_rules import profile_rules
from bastion.data.rules import Rule, compile_rules
from bastion.monitoring import ReferenceProfile
from bastion.settings.data import DataContractSettings, DataSettings

log = structlog.get_logger(__name__)
ProfileOf = Callable[[str, int], Awaitable[ReferenceProfile | None]]


class DataContracts:
    def __init__(self, settings: DataSettings, profile_of: ProfileOf | None = None) -> None:
        self._settings = {c.deployment: c for c in settings.contracts}
        self._static = {c.deployment: compile_rules(c.rules) for c in settings.contracts}
        self._profile_of = profile_of
        self._learned: dict[tuple[str, int], tuple[Rule, ...]] = {}
        self.profiles: dict[tuple[str, int], ReferenceProfile | None] = {}
        self._loading: dict[tuple[str, int], asyncio.Task[None]] = {}

    def __contains__(self, deployment: str) -> bool:
        return deployment in self._settings

    def __bool__(self) -> bool:
        return bool(self._settings)

    def contract(self, deployment: str) -> DataContractSettings | None:
        return self._settings.get(deployment)

    def rules(self, deployment: str, version: int | None) -> tuple[Rule, ...]:
        """The rules that apply now (configured, plus learned ones once loaded)."""
        static = self._static.get(deployment, ())
        contract = self._settings.get(deployment)
        if contract is None or not contract.profile or version is None:
            return static
        learned = self._learned.get((deployment, version))
        if learned is None:
            self._load_later(deployment, version, contract.profile_tolerance)
            return static
        return static + learned

    async def ready(self, deployment: str, version: int) -> tuple[Rule, ...]:
        """The rules with the learned ones loaded first (batch jobs wait for them)."""
        self.rules(deployment, version)
        task = self._loading.get((deployment, version))
        if task is not None:
            with contextlib.suppress(Exception):
                await asyncio.shield(task)
        return self.rules(deployment, version)

    def profile(self, deployment: str, version: int | None) -> ReferenceProfile | None:
        """The version's training profile once loaded (None until then, or without one)."""
        if version is None:
            return None
        contract = self._settings.get(deployment)
        if (deployment, version) not in self.profiles:
            self._load_later(deployment, version, contract.profile_tolerance if contract else 0)
        return self.profiles.get((deployment, version))

    def _load_later(self, deployment: str, version: int, tolerance: float) -> None:
        key = (deployment, version)
        if key in self._loading or self._profile_of is None:
            return
        profile_of = self._profile_of

        async def load() -> None:
            profile = await profile_of(deployment, version)
            self.profiles[key] = profile
            self._learned[key] = profile_rules(profile, tolerance) if profile else ()
            log.info("data_contract_learned", deployment=deployment, version=version,
                     rules=len(self._learned[key]))  # fmt: skip

        self._loading[key] = asyncio.create_task(load())
