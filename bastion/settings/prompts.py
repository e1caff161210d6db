"""Prompt templates: the promotion gates of their aliases, eval runs, the serving cache."""

from __future__ import annotations

from pydantic import Field

from bastion.settings.core import Section
from bastion.settings.evaluation import GateSettings


class PromptsSettings(Section):
    """``gates``: ``{prompt: {alias: GateSettings}}``, the same gates as models' (thresholds
    and no-regression on eval reports of prompt versions, approvals); ungated without one."""

    enabled: bool = True
    gates: dict[str, dict[str, GateSettings]] = Field(default_factory=dict)
    eval_concurrency: int = Field(
        4, ge=1, le=64, description="rows of an eval run sent to the model group at once"
    )
    eval_timeout_s: float = Field(60.0, gt=0, le=600, description="per row of an eval run")
    retriever: str | None = Field(
        None,
        pattern=r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$",
        description="MODULE:FACTORY returning the retriever of templates' retrieval steps "
        "(when the server has no retrieval service of its own); called once at start",
    )
    max_cached_versions: int = Field(
        256, ge=1, le=100_000, description="prompt versions kept parsed in memory per server"
    )
