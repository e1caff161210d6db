"""structlog configuration: JSON (or console) lines at the configured level, to the chosen sink."""

from __future__ import annotations

import logging
import sys
from typing import Any, TextIO

import orjson
import structlog

from bastion.settings import LoggingSettings
from bastion.settings.observability import ObservabilitySettings


def _binary_sink(sink: str) -> Any:
    if sink == "stderr":
        return sys.stderr.buffer
    if sink == "stdout":
        return sys.stdout.buffer
    return open(sink, "ab")  # held by structlog for the process' life


def _text_sink(sink: str) -> TextIO:
    if sink == "stderr":
        return sys.stderr
    if sink == "stdout":
        return sys.stdout
    return open(sink, "a", buffering=1, encoding="utf-8")  # held by structlog too


def configure_logging(
    settings: LoggingSettings, observability: ObservabilitySettings | None = None
) -> None:
    """Configure structlog once per process; ``observability.log_*`` win over ``logging``.

    JSON lines are rendered with orjson and written with one ``write`` each (several workers
    may append to one file); the console format is for people at a terminal.
    """
    obs = observability or ObservabilitySettings()
    level_name = obs.log_level or settings.level
    fmt = obs.log_format or settings.format
    level = getattr(logging, level_name.upper())
    logger_factory: Any
    if fmt == "json":
        renderer: structlog.types.Processor = structlog.processors.JSONRenderer(
            serializer=orjson.dumps
        )
        logger_factory = structlog.BytesLoggerFactory(_binary_sink(obs.log_sink))
    else:
        renderer = structlog.dev.ConsoleRenderer(colors=False)
        logger_factory = structlog.PrintLoggerFactory(_text_sink(obs.log_sink))
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=logger_factory,
        cache_logger_on_first_use=True,
    )
