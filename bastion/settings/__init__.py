"""Typed settings tree: a YAML file plus ``BASTION_*`` environment overrides, validated once.

Only this package reads the environment or the config file. Each concern has its own section
module here and each component takes its own section. Nested keys are overridden with a double
underscore, e.g. ``BASTION_SERVER__PORT=8100``; the most used ones also have short forms
(``BASTION_PORT``, ``BASTION_HOST``, ``BASTION_WORKERS``, ``BASTION_ADMIN_KEY``).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml
from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from bastion.errors import ConfigError
from bastion.settings.actions import ActionsSettings
from bastion.settings.alerts import AlertSettings
from bastion.settings.audit import AuditSettings, EncryptionSettings
from bastion.settings.core import (
    ArtifactSettings,
    BatchingSettings,
    DeploymentSettings,
    LimitsSettings,
    LoggingSettings,
    RegistrySettings,
    Section,
    ServerSettings,
)
from bastion.settings.data import DataSettings
from bastion.settings.evaluation import EvaluationSettings
from bastion.settings.features import FeaturesSettings
from bastion.settings.governance import GovernanceSettings
from bastion.settings.guards import GuardsSettings
from bastion.settings.jobs import JobsSettings
from bastion.settings.llm import LlmSettings
from bastion.settings.monitoring import MonitoringSettings
from bastion.settings.observability import ObservabilitySettings
from bastion.settings.operations import OperationsSettings
from bastion.settings.prompts import PromptsSettings
from bastion.settings.protocols import OpenAISettings
from bastion.settings.rag import RagSettings
from bastion.settings.references import config_problems, unknown_env
from bastion.settings.review import ReviewSettings
from bastion.settings.rollouts import RolloutsSettings
from bastion.settings.security import JwtSettings, SecuritySettings

__all__ = [
    "ArtifactSettings",
    "BatchingSettings",
    "DeploymentSettings",
    "JobsSettings",
    "JwtSettings",
    "LimitsSettings",
    "LlmSettings",
    "LoggingSettings",
    "RegistrySettings",
    "Section",
    "SecuritySettings",
    "ServerSettings",
    "Settings",
    "load_settings",
]


class Settings(BaseSettings):
    """The whole configuration of one Bastion server or CLI invocation."""

    model_config = SettingsConfigDict(
        env_prefix="BASTION_", env_nested_delimiter="__", extra="forbid", frozen=True
    )

    data_dir: Path = Path(".bastion")
    database_url: str | None = None
    demo: bool = Field(True, description="register the bundled demo models on first start")
    server: ServerSettings = ServerSettings()
    limits: LimitsSettings = LimitsSettings()
    registry: RegistrySettings = RegistrySettings()
    artifacts: ArtifactSettings = ArtifactSettings()
    security: SecuritySettings = SecuritySettings()
    logging: LoggingSettings = LoggingSettings()
    llm: LlmSettings = LlmSettings()
    openai: OpenAISettings = OpenAISettings()
    governance: GovernanceSettings = GovernanceSettings()
    guards: GuardsSettings = GuardsSettings()
    alerts: AlertSettings = AlertSettings()
    observability: ObservabilitySettings = ObservabilitySettings()
    review: ReviewSettings = ReviewSettings()
    rollouts: RolloutsSettings = RolloutsSettings()
    monitoring: MonitoringSettings = MonitoringSettings()
    evaluation: EvaluationSettings = EvaluationSettings()
    audit: AuditSettings = AuditSettings()
    encryption: EncryptionSettings = EncryptionSettings()
    operations: OperationsSettings = OperationsSettings()
    jobs: JobsSettings = JobsSettings()
    data: DataSettings = DataSettings()
    features: FeaturesSettings = FeaturesSettings()
    actions: ActionsSettings = ActionsSettings()
    prompts: PromptsSettings = PromptsSettings()
    rag: RagSettings = RagSettings()
    deployments: list[DeploymentSettings] = Field(
        default_factory=list,
        description="served deployments; empty means every registered model, by its name",
    )

    @field_validator("deployments")
    @classmethod
    def _unique_names(cls, value: list[DeploymentSettings]) -> list[DeploymentSettings]:
        names = [d.name for d in value]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"deployment names must be unique; repeated: {', '.join(dupes)}")
        return value

    @model_validator(mode="after")
    def _clear_payloads_need_encryption(self) -> Settings:
        clear = self.monitoring.prediction_log.clear_tenants
        if clear and self.encryption.keys is None and self.encryption.key_file is None:
            raise ValueError(
                "monitoring.prediction_log.clear_tenants "
                f"({', '.join(clear)}) stores their payloads unscrubbed, which is allowed only "
                "with encryption at rest: set encryption.keys (BASTION_ENCRYPTION_KEYS) or "
                "encryption.key_file, or remove these tenants to store scrubbed payloads"
            )
        return self

    @model_validator(mode="after")
    def _feature_review_needs_a_policy(self) -> Settings:
        for b in self.features.bindings:
            if b.missing == "review" and self.review.policy(b.deployment) is None:
                raise ValueError(
                    f"features.bindings: {b.deployment!r} sends answers with missing features "
                    "to review (missing: review) but review.policies has no policy for it; "
                    "add one (e.g. {deployment: " + b.deployment + ", fallback: model})"
                )
        return self

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite+aiosqlite:///{self.data_dir.resolve() / 'bastion.db'}"

    @property
    def artifacts_dir(self) -> Path:
        return self.data_dir / "artifacts"

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, _YamlSource(settings_cls, cls._yaml_data()))

    @classmethod
    def _yaml_data(cls) -> dict[str, Any]:
        return {}


class _YamlSource(PydanticBaseSettingsSource):
    """The config file's mapping, ranked below the environment."""

    def __init__(self, settings_cls: type[BaseSettings], data: dict[str, Any]) -> None:
        super().__init__(settings_cls)
        self._data = data

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return self._data.get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        return dict(self._data)


_SHORT_ENV = {
    "BASTION_PORT": ("server", "port"),
    "BASTION_HOST": ("server", "host"),
    "BASTION_WORKERS": ("server", "workers"),
    "BASTION_ADMIN_KEY": ("security", "admin_key"),
    "BASTION_ENCRYPTION_KEYS": ("encryption", "keys"),
    "BASTION_ENCRYPTION_KEY_FILE": ("encryption", "key_file"),
}


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from exc
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"config file {path} is not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"config file {path} must hold a mapping at the top level")
    return data


def _describe(exc: ValidationError, source: str) -> str:
    lines = [f"invalid configuration ({source}):"]
    for err in exc.errors():
        key = ".".join(str(p) for p in err["loc"]) or "(root)"
        got = err.get("input")
        shown = "" if isinstance(got, dict | list) else f" (got {got!r})"
        lines.append(f"  {key}: {err['msg']}{shown}")
    return "\n".join(lines)


def load_settings(config_file: Path | None = None, **overrides: Any) -> Settings:
    """Build Settings from ``config_file`` (or ``BASTION_CONFIG``), the environment, overrides.

    Precedence, highest first: explicit overrides, ``BASTION_*`` variables, the YAML file,
    defaults. Raises ConfigError naming every bad key and what was expected.
    """
    env = os.environ
    path = config_file or (Path(env["BASTION_CONFIG"]) if env.get("BASTION_CONFIG") else None)
    data: dict[str, Any] = _read_yaml(path) if path else {}
    for var, (section, key) in _SHORT_ENV.items():
        if var in env:
            overrides.setdefault(section, {})
            overrides[section] = {**overrides[section], key: env[var]}

    class _FromFile(Settings):
        @classmethod
        def _yaml_data(cls) -> dict[str, Any]:
            return data

    source = f"{path} + environment" if path else "environment"
    try:
        settings = _FromFile(**overrides)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, source)) from exc
    problems = config_problems(settings)
    if problems:
        lines = [f"invalid configuration ({source}):", *(f"  {p}" for p in problems)]
        raise ConfigError("\n".join(lines))
    return settings


def env_warnings() -> list[str]:
    """``BASTION_*`` variables no setting reads, each naming the nearest real one."""
    return unknown_env(Settings, os.environ)
