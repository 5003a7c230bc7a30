"""A model step Vertex runs as its own services needs no image or command: it compiles for
Vertex as written, while targets that would run a command still report it incomplete."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from pipespec.cli import main

SPEC = """\
pipespec: 1
name: nocmd
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
    endpoint: {name: scorer, instance_type: medium, min_replicas: 1, max_replicas: 2}
"""


@pytest.fixture(autouse=True)
def _not_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    """The train step is filled from the catalog in memory, which `CI=true` forbids."""
    monkeypatch.delenv("CI", raising=False)


def _compile(tmp_path: Path, spec: str, target: str) -> tuple[int, str]:
    (tmp_path / "pipeline.yaml").write_text(spec, encoding="utf-8")
    result = CliRunner().invoke(
        main, ["compile", str(tmp_path / "pipeline.yaml"), "--target", target,
               "--out", str(tmp_path / "out")],
    )  # fmt: skip
    return result.exit_code, result.stdout + result.stderr


def test_a_deploy_without_a_command_compiles_for_vertex(tmp_path: Path) -> None:
    code, out = _compile(tmp_path, SPEC, "vertex")
    assert code == 0, out
    spec = yaml.safe_load((tmp_path / "out" / "vertex" / "nocmd.yaml").read_text())
    executors = spec["deploymentSpec"]["executors"]
    launcher = executors["exec-deploy"]["container"]["command"][-1]
    assert launcher.endswith("endpoint.deploy_model.launcher")
    deploy = spec["root"]["dag"]["tasks"]["deploy"]["inputs"]["parameters"]
    assert deploy["dedicated_resources_machine_type"]["runtimeValue"]["constant"] == "n1-standard-4"
    job = json.loads((tmp_path / "out" / "vertex" / "nocmd.job.json").read_text())
    assert job["template"] == "nocmd.yaml"


@pytest.mark.parametrize("target", ["airflow", "all"])
def test_targets_that_run_a_command_still_need_one(tmp_path: Path, target: str) -> None:
    # Kubeflow, and Airflow's pods, deploy with KServe now; Airflow's local operator runs
    # on the worker, outside the cluster, so it still needs the step's command.
    # SageMaker also deploys natively; it needs its role and region for `all`.
    aws = '  sagemaker: {role_arn: "arn:aws:iam::123456789012:role/p", region: eu-west-1}\n'
    local = "  airflow: {operator: local}\n"
    code, out = _compile(tmp_path, SPEC + "targets:\n" + aws + local, target)
    assert code == 1
    assert out.count("error[PS500]: step 'deploy' is incomplete") == 1, out  # once, not per target
    assert not (tmp_path / "out" / "vertex").exists()


def test_a_deploy_listed_in_container_kinds_needs_its_command(tmp_path: Path) -> None:
    spec = SPEC + "targets:\n  vertex: {container_kinds: [deploy]}\n"
    code, out = _compile(tmp_path, spec, "vertex")
    assert code == 1
    assert "error[PS500]: step 'deploy' is incomplete" in out
