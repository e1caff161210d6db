"""Real tiny models for the backend tests, built once per session in a temporary directory."""

from __future__ import annotations

import joblib
import pytest
import skops.io
from sklearn.datasets import load_iris
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from bastion.backends.resources import Resources
from tests.backends.fakes_backends import Doubler, Iris, to_onnx


@pytest.fixture(scope="session")
def iris(tmp_path_factory: pytest.TempPathFactory) -> Iris:
    root = tmp_path_factory.mktemp("iris")
    x, y = load_iris(return_X_y=True)
    clf = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)).fit(x, y)
    reg = LinearRegression().fit(x[:, :3], x[:, 3])
    custom = make_pipeline(Doubler(), LogisticRegression(max_iter=500)).fit(x, y)
    paths = {
        "onnx": root / "iris.onnx",
        "regressor_onnx": root / "petal.onnx",
        "skops": root / "iris.skops",
        "joblib": root / "iris.joblib",
        "untrusted_skops": root / "custom.skops",
    }
    paths["onnx"].write_bytes(to_onnx(clf, 4))
    paths["regressor_onnx"].write_bytes(to_onnx(reg, 3))
    skops.io.dump(clf, paths["skops"])
    joblib.dump(clf, paths["joblib"])
    skops.io.dump(custom, paths["untrusted_skops"])
    return Iris(x=x, y=y, **paths)


@pytest.fixture(scope="session")
def resources() -> Resources:
    return Resources()
