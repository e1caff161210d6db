"""The request log line: its fields, PII scrubbing, and the configured sink and level."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
import structlog
from structlog.testing import capture_logs

from bastion.guards import PiiDetector
from bastion.observability.logging import configure_logging
from bastion.observability.request_log import RequestLog, RequestRecord
from bastion.settings import LoggingSettings
from bastion.settings.observability import ObservabilitySettings
from tests.observability.test_metrics import BASE


@pytest.fixture
def reset_structlog() -> Iterator[None]:
    yield
    structlog.reset_defaults()


def test_the_line_has_the_request_facts_and_leaves_out_what_did_not_happen() -> None:
    fields = RequestLog().fields(BASE)
    assert fields == {
        "request_id": "r1",
        "trace_id": None,
        "api": "predict",
        "deployment": "iris",
        "version": 3,
        "status": 200,
        "error_type": None,
        "key_id": "key_1",
        "principal": "ci",
        "tenant": "acme",
        "latency_ms": 4.0,
        "queue_ms": 0.1,
        "backend_ms": 2.0,
        "stream": False,
        "inputs": 1,
    }


def test_llm_facts_appear_when_present() -> None:
    record = dataclasses.replace(
        BASE,
        model="backup",
        prompt_tokens=12,
        completion_tokens=3,
        cost_usd=0.001,
        cache="miss",
        fallback="backup",
        served_by="backup",
        review="pending",
        review_flags=2,
        trace_id="ab" * 16,
    )
    fields = RequestLog().fields(record)
    assert fields["model"] == "backup" and fields["served_by"] == "backup"
    assert fields["fallback"] == "backup" and fields["cache"] == "miss"
    assert (fields["prompt_tokens"], fields["completion_tokens"]) == (12, 3)
    assert fields["cost_usd"] == 0.001
    assert (fields["review"], fields["review_flags"]) == ("pending", 2)
    assert fields["trace_id"] == "ab" * 16


def test_free_text_is_pii_scrubbed() -> None:
    record = dataclasses.replace(
        BASE,
        deployment="_unknown",
        requested="mail-bob@example.com",
        principal="alice@example.com",
        status=502,
        error_type="upstream_error",
        error_message="upstream said: card 4111 1111 1111 1111 declined",
    )
    fields = RequestLog(PiiDetector().scrub).fields(record)
    line = orjson.dumps(fields).decode()
    for secret in ("alice@example.com", "bob@example.com", "4111 1111 1111 1111"):
        assert secret not in line
    assert fields["error"].startswith("upstream said: card [")
    assert fields["deployment"] == "_unknown" and "[" in fields["requested"]


def test_key_names_are_scrubbed_once_each_in_a_bounded_memo() -> None:
    calls: list[str] = []

    def scrub(value: object) -> object:
        calls.append(str(value))
        return str(value).upper()

    log = RequestLog(scrub)
    for _ in range(3):
        assert log.fields(BASE)["principal"] == "CI"
    assert calls == ["ci"]
    for i in range(1100):
        log.fields(dataclasses.replace(BASE, principal=f"key-{i}"))
    assert len(log._names) <= 1024


def test_long_messages_are_cut() -> None:
    assert len(RequestLog().text("x" * 5000)) == 500


def test_emit_writes_one_request_completed_event() -> None:
    with capture_logs() as logs:
        RequestLog().emit(BASE)
    assert len(logs) == 1
    assert logs[0]["event"] == "request_completed" and logs[0]["log_level"] == "info"
    assert logs[0]["request_id"] == "r1"


def test_json_lines_go_to_the_file_sink_at_the_configured_level(
    tmp_path: Path, reset_structlog: None
) -> None:
    sink = tmp_path / "bastion.jsonl"
    settings = ObservabilitySettings(log_sink=str(sink), log_level="warning", log_format="json")
    configure_logging(LoggingSettings(level="debug", format="console"), settings)
    log = structlog.get_logger("test")
    log.info("request_completed", request_id="r1")  # below the level: dropped
    log.warning("upstream_retry", group="chat")
    lines = [orjson.loads(line) for line in sink.read_bytes().splitlines()]
    assert [line["event"] for line in lines] == ["upstream_retry"]
    assert lines[0]["level"] == "warning" and lines[0]["group"] == "chat"
    assert "timestamp" in lines[0]


def test_the_older_logging_section_applies_when_observability_leaves_it_unset(
    tmp_path: Path, reset_structlog: None
) -> None:
    sink = tmp_path / "console.log"
    configure_logging(
        LoggingSettings(level="info", format="console"),
        ObservabilitySettings(log_sink=str(sink)),
    )
    structlog.get_logger("test").info("model_version_loaded", model="iris")
    text = sink.read_text()
    assert "model_version_loaded" in text and "model=iris" in text


def test_a_filtered_level_builds_no_fields(reset_structlog: None) -> None:
    """Below the configured level the line is dropped before its fields are built (they
    cost a scrub and a dict per request); at info, it is written as before."""
    built: list[str] = []

    class Counting(RequestLog):
        def fields(self, r: RequestRecord) -> dict[str, Any]:
            built.append(r.request_id)
            return super().fields(r)

    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    with capture_logs() as logs:
        Counting().emit(BASE)
    assert built == [] and logs == []
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.INFO))
    with capture_logs() as logs:
        Counting().emit(BASE)
    assert built == ["r1"]
    assert [line["event"] for line in logs] == ["request_completed"]
