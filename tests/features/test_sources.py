"""The configured feature source: the built-in table by default; Feast only when chosen, with
a repo; without the package installed, startup says which extra to install."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from pydantic import ValidationError

from bastion.errors import ConfigError
from bastion.features import BuiltinFeatures, feature_source
from bastion.settings.features import FeaturesSettings
from bastion.store import Database


def test_the_builtin_table_is_the_default_source(tmp_path: Path) -> None:
    builtin = BuiltinFeatures(Database(f"sqlite+aiosqlite:///{tmp_path / 'f.db'}"))
    assert feature_source(FeaturesSettings(), builtin) is builtin


def test_feast_needs_a_repo() -> None:
    with pytest.raises(ValidationError, match="feast_repo is not set"):
        FeaturesSettings(source="feast")


@pytest.mark.skipif(importlib.util.find_spec("feast") is not None, reason="feast is installed")
def test_without_feast_installed_startup_names_the_extra(tmp_path: Path) -> None:
    builtin = BuiltinFeatures(Database(f"sqlite+aiosqlite:///{tmp_path / 'f.db'}"))
    settings = FeaturesSettings(source="feast", feast_repo=tmp_path)
    with pytest.raises(ConfigError, match=r"bastion\[feast\]"):
        feature_source(settings, builtin)
