"""Fake models for tests, in one place (like MLServer's SumModel/ErrorModel/SlowModel).

Registered as ``python`` flavor entry points, e.g. ``tests.fakes:echo``.
"""

from __future__ import annotations

import os
import time
from typing import Any


def echo(inputs: list[Any]) -> list[Any]:
    return [{"echo": item} for item in inputs]


def pid(inputs: list[Any]) -> list[Any]:
    return [{"pid": os.getpid()} for _ in inputs]


def slow(inputs: list[Any]) -> list[Any]:
    time.sleep(float(os.environ.get("BASTION_TEST_SLOW_S", "1.5")))
    return [{"done": True} for _ in inputs]


def broken(inputs: list[Any]) -> list[Any]:
    raise RuntimeError("the model crashed")


def wrong_count(inputs: list[Any]) -> list[Any]:
    return []
