"""A deploy step with an endpoint and no command on the Kubernetes targets: a task of
pipespec's applies a KServe InferenceService (or a SeldonDeployment) whose model URI it
gets at run time, and waits until it serves. The resource is the CRD's (strict schema
check), the program pipespec's; nothing of the spec becomes code."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from pipespec.backends.serving_k8s import APPLIER_PROGRAM, MANIFEST_ENV
from pipespec.cli import main
from tests.conformance.k8s_serving_checks import problems

SPEC = """\
pipespec: 1
name: served
steps:
  split:
    kind: container
    image: python:3.12-slim
    command: [python, -c, "pass", "${outputs.train}"]
    outputs: {train: dataset}
  train:
    kind: train
    framework: xgboost
    task: binary_classification
    inputs: {train: split.train}
  deploy:
    kind: deploy
    inputs: {model: train.model}
    endpoint: {name: scorer, instance_type: medium, min_replicas: 1, max_replicas: 3}
targets:
  airflow: {version: "3", namespace: ml, artifact_root: "s3://acme/artifacts"}
  kubeflow: {}
"""


@pytest.fixture(autouse=True)
def _not_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)  # the train step is filled from the catalog


def _compile(tmp_path: Path, spec: str, target: str) -> tuple[int, str]:
    (tmp_path / "pipeline.yaml").write_text(spec, encoding="utf-8")
    args = ["compile", str(tmp_path / "pipeline.yaml"), "--target", target,
            "--out", str(tmp_path / "out")]  # fmt: skip
    result = CliRunner().invoke(main, args)
    return result.exit_code, result.stdout + result.stderr


def _kfp_executor(tmp_path: Path) -> dict[str, Any]:
    docs = list(yaml.safe_load_all((tmp_path / "out" / "kubeflow" / "served.yaml").read_text()))
    container: dict[str, Any] = docs[0]["deploymentSpec"]["executors"]["exec-deploy"]["container"]
    return container


def test_kubeflow_applies_an_inference_service_with_the_models_uri(tmp_path: Path) -> None:
    code, out = _compile(tmp_path, SPEC, "kubeflow")
    assert code == 0, out
    container = _kfp_executor(tmp_path)
    argv = [*container["command"], *container.get("args", [])]
    assert argv[:3] == ["python3", "-c", APPLIER_PROGRAM]
    at = argv.index("--model-uri")
    assert argv[at + 1] == "{{$.inputs.artifacts['model'].uri}}"  # the URI, not a path
    (env,) = [e for e in container["env"] if e["name"] == MANIFEST_ENV]
    resource = json.loads(env["value"])
    assert resource["kind"] == "InferenceService"
    assert resource["spec"]["predictor"]["maxReplicas"] == 3
    assert problems(resource) == []  # the pinned KServe CRD, judged strictly


def test_seldon_is_a_setting_away(tmp_path: Path) -> None:
    spec = SPEC.replace("  kubeflow: {}", "  kubeflow: {serving: seldon}")
    spec = spec.replace("framework: xgboost", "framework: scikit-learn")
    code, out = _compile(tmp_path, spec, "kubeflow")
    assert code == 0, out
    (env,) = [e for e in _kfp_executor(tmp_path)["env"] if e["name"] == MANIFEST_ENV]
    resource = json.loads(env["value"])
    assert resource["kind"] == "SeldonDeployment"
    assert problems(resource) == []


def test_airflow_pods_apply_it_and_the_manifest_is_not_templated(tmp_path: Path) -> None:
    code, out = _compile(tmp_path, SPEC, "airflow")
    assert code == 0, out
    dag = (tmp_path / "out" / "airflow" / "served.py").read_text()
    assert "'--model-uri', 's3://acme/artifacts/served/{{ run_id }}/train/model'" in dag
    assert f"'{MANIFEST_ENV}': " in dag


@pytest.mark.parametrize(
    ("settings", "said"),
    [
        ('{version: "3", artifact_root: "/data"}', "error[PS600]: step 'deploy' deploys a model"),
        ('{version: "3", operator: local}', "error[PS500]: step 'deploy' is incomplete"),
    ],
)
def test_where_airflow_cannot_deploy_it_says_so(tmp_path: Path, settings: str, said: str) -> None:
    spec = SPEC.replace(
        '{version: "3", namespace: ml, artifact_root: "s3://acme/artifacts"}', settings
    )
    code, out = _compile(tmp_path, spec, "airflow")
    assert code == 1 and said in out, out
    assert not (tmp_path / "out").exists()
