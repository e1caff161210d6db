"""The enrich stage: each input's entity key → its features, before validation.

Only deployments with a feature binding are touched (the stage is absent when none is
declared). The stage reads a call's entities in one ``fetch`` (the built-in table from
memory; Feast's online store in one round trip). An input's own fields win over looked-up
ones. A missing entity or feature follows the binding's policy: ``default`` (its defaults,
else null), ``reject`` (422) or ``review`` (the defaults, and a review flag on the call: the
decide stage sends its answer to a human, trigger ``features``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from bastion.errors import InvalidRequest
from bastion.features.base import FeatureSource
from bastion.pipeline.call import MISSING_FEATURES, ReviewFlag
from bastion.settings.features import FeatureBinding

if TYPE_CHECKING:
    from bastion.pipeline import Call, Next, Result


def enrich(source: FeatureSource, binding: FeatureBinding, value: Any, where: str) -> Any:
    """``value`` with its entity's features added (``value`` unchanged if not an object)."""
    if not isinstance(value, dict) or binding.entity_key not in value:
        return value
    return fill(binding, value, source.online(binding.table, entity_of(binding, value)), where)


def entity_of(binding: FeatureBinding, value: dict[str, Any]) -> str:
    return str(value[binding.entity_key])


def fill(
    binding: FeatureBinding,
    value: dict[str, Any],
    found: Mapping[str, Any] | None,
    where: str,
    missed: list[str] | None = None,
) -> dict[str, Any]:
    """``value`` (which names its entity) with ``found`` added under the binding's policy;
    what was filled from the defaults is appended to ``missed``."""
    entity = entity_of(binding, value)
    if found is None and missed is not None:
        missed.append(f"{where}: no features for {binding.entity_key}={entity!r}")
    if found is None and binding.missing == "reject":
        raise InvalidRequest(
            f"{where}: no features for {binding.entity_key}={entity!r} in table "
            f"'{binding.table}'; load them with `bastion features load` (or materialize "
            "them into the Feast online store)",
            details={"field": binding.entity_key, "rule": "missing_feature"},
        )
    names = binding.features or list(found or {})
    out = dict(value)
    if not binding.keep_key:
        del out[binding.entity_key]
    for name in names:
        if name in value:
            continue
        if found is not None and name in found:
            out[name] = found[name]
        elif binding.missing == "reject":
            raise InvalidRequest(
                f"{where}: no feature '{name}' for {binding.entity_key}={entity!r} in table "
                f"'{binding.table}'; load it with `bastion features load` (or materialize "
                "it into the Feast online store)",
                details={"field": binding.entity_key, "rule": "missing_feature"},
            )
        else:
            out[name] = binding.defaults.get(name)
            if missed is not None and found is not None:
                missed.append(f"{where}: no feature '{name}' for {binding.entity_key}={entity!r}")
    return out


class EnrichStage:
    def __init__(self, source: FeatureSource, bindings: dict[str, FeatureBinding]) -> None:
        self._source = source
        self._bindings = bindings

    async def __call__(self, call: Call, next: Next) -> Result:
        binding = self._bindings.get(call.deployment)
        if binding is not None:
            keyed = [isinstance(v, dict) and binding.entity_key in v for v in call.inputs]
            wanted = [entity_of(binding, v) for v, k in zip(call.inputs, keyed, strict=True) if k]
            found = await self._source.fetch(binding.table, wanted) if wanted else {}
            missed: list[str] = []
            call.inputs = [
                fill(binding, v, found.get(entity_of(binding, v)), self._where(call, i), missed)
                if k else v
                for i, (v, k) in enumerate(zip(call.inputs, keyed, strict=True))
            ]  # fmt: skip
            if missed and binding.missing == "review":
                call.review_flags.append(ReviewFlag(MISSING_FEATURES, 1.0, tuple(missed[:10])))
        return await next(call)

    @staticmethod
    def _where(call: Call, i: int) -> str:
        return f"inputs[{i}]" if call.batched else "input"
