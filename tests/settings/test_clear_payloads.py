"""Payloads stored as sent (``clear_tenants``) need encryption at rest: refused at start."""

from __future__ import annotations

import base64
import os
from pathlib import Path

import pytest

from bastion.errors import ConfigError
from bastion.settings import load_settings


def test_clear_tenants_without_a_key_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "bastion.yaml"
    path.write_text("monitoring:\n  prediction_log:\n    clear_tenants: [acme]\n")
    with pytest.raises(ConfigError, match=r"clear_tenants \(acme\).*encryption\.keys"):
        load_settings(path)


def test_clear_tenants_with_a_key_are_accepted(tmp_path: Path) -> None:
    key = base64.b64encode(os.urandom(32)).decode()
    path = tmp_path / "bastion.yaml"
    path.write_text(
        "monitoring:\n  prediction_log:\n    clear_tenants: [acme]\n"
        f"encryption:\n  keys: 'k1:{key}'\n"
    )
    assert load_settings(path).monitoring.prediction_log.clear_tenants == ["acme"]
