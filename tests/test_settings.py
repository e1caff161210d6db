from pathlib import Path

import pytest

from bastion.errors import ConfigError
from bastion.settings import load_settings


def test_defaults_use_sqlite_in_the_data_dir(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("BASTION_DATA_DIR", str(tmp_path))
    settings = load_settings()
    assert settings.resolved_database_url == f"sqlite+aiosqlite:///{tmp_path.resolve()}/bastion.db"
    assert settings.server.port == 8000


def test_yaml_then_env_then_overrides(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    cfg = tmp_path / "bastion.yaml"
    cfg.write_text("server:\n  port: 9000\n  workers: 2\nlimits:\n  max_batch: 8\n")
    monkeypatch.setenv("BASTION_SERVER__HOST", "0.0.0.0")
    monkeypatch.setenv("BASTION_PORT", "8100")
    settings = load_settings(cfg)
    assert (settings.server.host, settings.server.port, settings.server.workers) == (
        "0.0.0.0",
        8100,
        2,
    )
    assert settings.limits.max_batch == 8
    assert load_settings(cfg, demo=False).demo is False


def test_bad_keys_are_named(tmp_path: Path) -> None:
    cfg = tmp_path / "bastion.yaml"
    cfg.write_text("server:\n  prot: 9000\nlimits:\n  max_depth: deep\n")
    with pytest.raises(ConfigError) as info:
        load_settings(cfg)
    assert "server.prot: Extra inputs are not permitted" in info.value.message
    assert "limits.max_depth" in info.value.message and "'deep'" in info.value.message


def test_config_file_from_env_and_broken_yaml(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    cfg = tmp_path / "broken.yaml"
    cfg.write_text("server: [unclosed\n")
    monkeypatch.setenv("BASTION_CONFIG", str(cfg))
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_settings()


def test_duplicate_deployments_rejected(tmp_path: Path) -> None:
    cfg = tmp_path / "bastion.yaml"
    cfg.write_text("deployments:\n  - name: a\n  - name: a\n")
    with pytest.raises(ConfigError, match="repeated: a"):
        load_settings(cfg)


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read config file"):
        load_settings(tmp_path / "nope.yaml")
