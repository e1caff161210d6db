"""Settings of feature lookup: which deployments are enriched from which feature table."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field, model_validator

from bastion.settings.core import Section


class FeatureBinding(Section):
    """``deployment``'s inputs carry ``entity_key``; the stage adds ``features`` of that
    entity from ``table`` (all of the table's features when empty). A missing entity or
    feature follows ``missing``: ``default`` fills ``defaults`` (null where none), ``reject``
    answers 422 naming the entity, ``review`` fills the defaults and sends the call's
    answer to human review (trigger ``features``; needs a review policy for the
    deployment). With ``source: feast``, ``table`` is a Feast feature view
    and ``features`` its feature names (the view's single entity column is the join key)."""

    deployment: str = Field(min_length=1)
    table: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]{0,62}$")
    entity_key: str = Field(min_length=1, max_length=200)
    features: list[str] = Field(default_factory=list)
    missing: Literal["default", "reject", "review"] = "default"
    defaults: dict[str, Any] = Field(default_factory=dict)
    keep_key: bool = Field(False, description="pass the entity key on to the model")


class FeaturesSettings(Section):
    bindings: list[FeatureBinding] = Field(default_factory=list)
    poll_interval_s: float = Field(1.0, gt=0, le=600, description="new loads reach the cache")
    source: Literal["builtin", "feast"] = Field(
        "builtin",
        description="where lookups and exports read: the built-in table, or Feast's online "
        "and offline stores (needs the `feast` extra)",
    )
    feast_repo: Path | None = Field(
        None, description="the Feast repo (its feature_store.yaml), with source: feast"
    )

    @model_validator(mode="after")
    def _feast_has_a_repo(self) -> FeaturesSettings:
        if self.source == "feast" and self.feast_repo is None:
            raise ValueError(
                "features.source is feast but features.feast_repo is not set; set it to the "
                "directory holding feature_store.yaml"
            )
        return self
