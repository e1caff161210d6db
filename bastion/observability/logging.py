"""structlog configuration: JSON (or console) lines at the configured level, to the chosen sink."""

from __future__ import annotations

import logging
import math
import sys
import time
from collections.abc import Callable, MutableMapping
from datetime import UTC, datetime
from typing import Any, TextIO

import orjson
import structlog

from bastion.settings import LoggingSettings
from bastion.settings.observability import ObservabilitySettings


class UtcIsoStamper:
    """structlog's ``TimeStamper(fmt="iso", utc=True)``: the same ``timestamp`` text
    (``2026-12-07T20:10:59.123456Z``; no fraction on a whole second, as ``isoformat``
    writes it), with the date and time of day formatted once a second instead of on every
    line (a quarter of the cost). Safe across threads: the cache is one tuple, replaced."""

    __slots__ = ("_cached", "_clock")

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._cached: tuple[int, str] = (-1, "")

    def __call__(
        self, _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
    ) -> MutableMapping[str, Any]:
        now = self._clock()
        second = math.floor(now)
        micros = round((now - second) * 1e6)  # half to even, as datetime.fromtimestamp
        if micros >= 1_000_000:
            second, micros = second + 1, micros - 1_000_000
        cached = self._cached
        if cached[0] != second:
            text = datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%dT%H:%M:%S")
            cached = self._cached = (second, text)
        event_dict["timestamp"] = f"{cached[1]}.{micros:06d}Z" if micros else cached[1] + "Z"
        return event_dict


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
            UtcIsoStamper(),  # TimeStamper(fmt="iso", utc=True)'s text, made cheaper
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=logger_factory,
        cache_logger_on_first_use=True,
    )
