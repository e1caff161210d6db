"""Shared fixtures: the bundled encoder and one trained screen per test session."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pytest

from bastion.guards.injection import EmbeddingClassifier, InjectionScreen, ScreenModel


class ZeroEncoder:
    """A TextEncoder stand-in whose vectors carry no signal: the screen decides by rules."""

    dimensions = 384

    def encode(self, texts: Sequence[str]) -> Any:
        return np.zeros((len(texts), self.dimensions), dtype=np.float32)


@pytest.fixture
def rules_only_screen() -> InjectionScreen:
    model = ScreenModel(EmbeddingClassifier(np.zeros(384), -8.0))
    return InjectionScreen(ZeroEncoder(), model=model)


@pytest.fixture(scope="session")
def trained_screen() -> InjectionScreen:
    """The default screen: rules and the shipped n-gram model."""
    from bastion.guards.injection import default_screen

    return default_screen()
