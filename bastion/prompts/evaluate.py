"""Eval runs of a prompt version: each row's input is the prompt's variables; the version is
rendered (its retrieval step run), sent to its model group (or another one named for the run),
and the answer scored. Reports are stored like models' reports, under ``prompt:NAME``, so the
same promotion gates read them.

What a scorer sees for a row: the answer text as the value, and as the raw output
``{"answer": TEXT, "citations": [{document, chunk, score, text}, …]}`` (the groundedness
scorer reads the cited chunks' text there).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import structlog

from bastion.errors import InvalidRequest
from bastion.evaluation.base import Observations
from bastion.evaluation.entities import EvalReport, EvalRow, EvalSet
from bastion.evaluation.reports import ReportStore
from bastion.evaluation.scorers import build_scorers
from bastion.evaluation.scoring import score, score_slices, slice_gaps
from bastion.prompts.base import Completer, Retriever
from bastion.prompts.entities import PromptVersion
from bastion.prompts.rendering import prepare

if TYPE_CHECKING:
    from bastion.core.principal import Principal

log = structlog.get_logger(__name__)

SUBJECT_PREFIX = "prompt:"


def subject(name: str) -> str:
    """The name a prompt's reports, approvals and gate pins are kept under."""
    return SUBJECT_PREFIX + name


def answer_text(response: dict[str, Any]) -> str:
    choices = response.get("choices") or [{}]
    message = choices[0].get("message") or {}
    content = message.get("content")
    return content if isinstance(content, str) else ""


class PromptEvalRunner:
    def __init__(
        self,
        reports: ReportStore,
        complete: Completer,
        retriever: Retriever | None,
        *,
        concurrency: int = 4,
        timeout_s: float = 60.0,
    ) -> None:
        self._reports = reports
        self._complete = complete
        self.retriever = retriever
        self._gate = asyncio.Semaphore(concurrency)
        self._timeout = timeout_s

    async def _one(
        self, version: PromptVersion, row: EvalRow, i: int, group: str, principal: Principal
    ) -> tuple[str, dict[str, Any], float]:
        try:
            rendered = await prepare(
                version, row.input, alias=None, principal=principal, retriever=self.retriever
            )
        except InvalidRequest as exc:
            message = f"eval set row {i + 1}: {exc.message}"
            raise InvalidRequest(message, details=exc.details) from exc
        body = {**rendered.body(), "model": group}
        async with self._gate:
            began = time.perf_counter()
            async with asyncio.timeout(self._timeout):
                response = await self._complete(group, body)
            elapsed = (time.perf_counter() - began) * 1000
        text = answer_text(response)
        cited = [c.to_dict(text=True) for c in rendered.citations]
        return text, {"answer": text, "citations": cited}, elapsed

    async def run(
        self,
        version: PromptVersion,
        eval_set: EvalSet,
        rows: Sequence[EvalRow],
        *,
        principal: Principal,
        scorers: Sequence[str] = (),
        group: str | None = None,
        created_by: str = "api",
        tenant: str | None = None,
    ) -> EvalReport:
        """Score ``version`` on ``eval_set``'s rows against ``group`` (default: the
        template's model group); store and return the report."""
        built = build_scorers(scorers, [r.expected for r in rows])
        target = group or version.template.model
        began = time.perf_counter()
        try:
            done = await asyncio.gather(
                *(self._one(version, r, i, target, principal) for i, r in enumerate(rows))
            )
        except TimeoutError as exc:
            raise InvalidRequest(
                f"eval run of prompt {version.ref}: a row took longer than {self._timeout:g}s "
                "on the model group; raise prompts.eval_timeout_s or use a faster group"
            ) from exc
        expected = [r.expected for r in rows]
        answers, raw, latency = [d[0] for d in done], [d[1] for d in done], [d[2] for d in done]
        obs = Observations(answers, raw, expected, latency)
        metrics = score(built, obs)
        slices = score_slices(built, obs, rows)
        report = await self._reports.add(
            subject(version.name),
            version.version,
            eval_set,
            rows=len(rows),
            scorers=[s.name for s in built],
            metrics=metrics,
            slices=slices,
            gaps=slice_gaps(slices),
            params={
                "prompt": version.ref,
                "model_group": target,
                "duration_s": round(time.perf_counter() - began, 3),
            },
            created_by=created_by,
            tenant=tenant,
        )
        log.info("prompt_eval_finished", prompt=version.ref, set=eval_set.ref, report=report.id)
        return report


__all__ = ["PromptEvalRunner", "answer_text", "subject"]
