"""The demo models, trained once per session (a few seconds)."""

from __future__ import annotations

import pytest

from bastion.backends.resources import Resources
from bastion.demo import TrainedModel, demo_models


@pytest.fixture(scope="session")
def demo_resources() -> Resources:
    return Resources()


@pytest.fixture(scope="session")
def trained(demo_resources: Resources) -> dict[str, TrainedModel]:
    return {model.name: model for model in demo_models(demo_resources)}
