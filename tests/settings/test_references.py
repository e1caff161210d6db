"""Config that cannot work is refused at start, naming the key; misspelt variables warned."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from bastion.errors import ConfigError
from bastion.settings import Settings, load_settings
from bastion.settings.references import registry_warnings, unknown_env
from tests.e2e.server import BASTION, ROOT

GROUP = {"name": "chat", "upstreams": [{"base_url": "http://127.0.0.1:9/v1", "model": "m"}]}
SCORER = {"name": "scorer"}


def _refused(tmp_path: Path, config: dict[str, Any]) -> str:
    path = tmp_path / "bastion.yaml"
    path.write_text(yaml.safe_dump(config))
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    return caught.value.message


@pytest.mark.parametrize(
    ("config", "key", "says"),
    [
        (
            {"deployments": [SCORER], "review": {"policies": [{"deployment": "scorr"}]}},
            "review.policies.0.deployment",
            "did you mean 'scorer'",
        ),
        (
            {
                "llm": {"groups": [GROUP]},
                "review": {"policies": [{"deployment": "chat", "confidence_below": 0.5}]},
            },
            "review.policies.0.fallback",
            "'pending' cannot be sent",
        ),
        (
            {
                "deployments": [SCORER],
                "llm": {"groups": [GROUP]},
                "review": {
                    "policies": [
                        {"deployment": "scorer", "fallback": "model", "escalate_to": {"to": "chat"}}
                    ]
                },
            },
            "review.policies.0.escalate_to.to",
            "both be LLM groups or both deployments",
        ),
        (
            {
                "llm": {"groups": [GROUP]},
                "rollouts": {"deployments": [{"deployment": "chat", "shadow": {"version": 2}}]},
            },
            "rollouts.deployments.0.deployment",
            "LLM group",
        ),
        (
            {
                "deployments": [SCORER],
                "rollouts": {"deployments": [{"deployment": "scorre", "canary": {}}]},
            },
            "rollouts.deployments.0.deployment",
            "no deployment named 'scorre'",
        ),
    ],
)
def test_names_and_kinds_that_cannot_work_are_refused(
    tmp_path: Path, config: dict[str, Any], key: str, says: str
) -> None:
    message = _refused(tmp_path, config)
    assert f"{key}: " in message and says in message


def test_unknown_bastion_variables_name_the_nearest_real_one() -> None:
    env = {
        "BASTION_SERVR__PORT": "1",
        "BASTION_SECURITY__JWT__ISSUER": "x",
        "BASTION_URL": "http://x",
        "BASTION_DEMO": "false",
        "HOME": "/root",
    }
    assert unknown_env(Settings, env) == [
        "BASTION_SERVR__PORT is not a Bastion setting and is ignored "
        "(did you mean 'BASTION_SERVER__PORT'?)"
    ]


def test_registry_references_are_warned_about_with_the_nearest_name(tmp_path: Path) -> None:
    settings = load_settings(
        None,
        deployments=[{"name": "scorer", "model": "scorr"}],
        evaluation={"gates": {"scorer": {"production": {}}}},
        data_dir=tmp_path,
    )
    models = {"scorer": {"versions": {1: "sklearn"}}}
    warnings = registry_warnings(settings, models, [])
    assert any("deployments.0.model" in w and "did you mean 'scorer'" in w for w in warnings)
    assert not any("evaluation.gates.scorer" in w for w in warnings)
    embedder = load_settings(
        None, review={"policies": [{"deployment": "vectors", "confidence_below": 0.5}]}
    )
    [warning] = registry_warnings(embedder, {"vectors": {"versions": {1: "embedding"}}}, [])
    assert "review.policies.0.confidence_below" in warning and "never fires" in warning


@pytest.mark.parametrize(
    ("config", "key"),
    [
        (
            {
                "llm": {"groups": [GROUP]},
                "review": {"policies": [{"deployment": "chat", "confidence_below": 0.5}]},
            },
            "review.policies.0.fallback",
        ),
        (
            {
                "llm": {
                    "groups": [
                        {
                            **GROUP,
                            "upstreams": [
                                {**GROUP["upstreams"][0], "api_key_env": "NO_SUCH_KEY_VAR"}
                            ],
                        }
                    ]
                }
            },
            "llm.groups.0.upstreams.0.api_key_env",
        ),
    ],
)
def test_serve_refuses_before_its_banner_in_one_line_naming_the_key(
    tmp_path: Path, config: dict[str, Any], key: str
) -> None:
    path = tmp_path / "bastion.yaml"
    path.write_text(yaml.safe_dump(config))
    done = subprocess.run(
        [BASTION, "serve", "--config", str(path)],
        check=False,
        env={
            "PATH": "/usr/bin:/bin",
            "PYTHONPATH": str(ROOT),
            "BASTION_DATA_DIR": str(tmp_path),
            "BASTION_SERVR__PORT": "9000",
        },
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "Bastion on" not in done.stdout and "Traceback" not in done.stderr
    assert key in done.stderr
    assert "BASTION_SERVR__PORT is not a Bastion setting" in done.stderr
    assert "did you mean 'BASTION_SERVER__PORT'?" in done.stderr
