"""A call that rendered a prompt template names its version and citations in the request
log line and on the request span."""

from __future__ import annotations

import dataclasses

from bastion.observability.request_log import RequestLog
from bastion.observability.stage import _span_attributes
from tests.observability.test_metrics import BASE


def test_the_prompt_version_and_citations_are_in_the_line_and_the_span() -> None:
    record = dataclasses.replace(
        BASE, prompt="support@3", citations=("refunds.md#0", "refunds.md#1")
    )
    fields = RequestLog().fields(record)
    assert fields["prompt"] == "support@3"
    assert fields["citations"] == ["refunds.md#0", "refunds.md#1"]
    span = _span_attributes(record)
    assert span["bastion.prompt"] == "support@3"
    assert span["bastion.citations"] == ["refunds.md#0", "refunds.md#1"]


def test_a_call_without_a_prompt_leaves_them_out() -> None:
    fields = RequestLog().fields(BASE)
    assert "prompt" not in fields and "citations" not in fields
    span = _span_attributes(BASE)
    assert span["bastion.prompt"] is None and span["bastion.citations"] is None
