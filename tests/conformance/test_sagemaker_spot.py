"""Managed spot training and checkpoints in whole SageMaker definitions, accepted by the
SageMaker probe (AWS's schema with its corrections, botocore's CreateTrainingJob and
CreateHyperParameterTuningJob shapes: ``EnableManagedSpotTraining``,
``StoppingCondition.MaxWaitTimeInSeconds``, ``CheckpointConfig``), and each mutation of
those members caught."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from pipespec import ir
from pipespec.api import analyze_file
from pipespec.backends.sagemaker.options import SagemakerOptions
from pipespec.backends.sagemaker.render import render_sagemaker
from tests.conformance.sagemaker_runner import probe_sagemaker_many
from tests.conftest import ROOT

pytestmark = pytest.mark.conformance

ROLE = "arn:aws:iam::123456789012:role/pipelines"
REGION = "eu-west-1"
TRAIN_SPEC = f"""
pipespec: 1
name: spot-trainer
steps:
  prep:
    kind: container
    image: prep:1
    command: [prep, "${{outputs.data}}"]
    outputs: {{data: dataset}}
  train:
    kind: train
    image: trainer:1
    command: [train, --data, "${{inputs.data}}", --model, "${{outputs.model}}"]
    inputs: {{data: prep.data}}
    timeout: 2h
    targets:
      sagemaker: {{spot: true, max_wait: 6h, checkpoints: true, instance_type: ml.g5.xlarge}}
  score:
    kind: container
    image: prep:1
    command: [score, "${{inputs.model}}"]
    inputs: {{model: train.model}}
targets:
  sagemaker: {{role_arn: "{ROLE}", region: {REGION}}}
"""


def _pipeline(spec: Path, text: str, monkeypatch: pytest.MonkeyPatch) -> ir.Pipeline:
    monkeypatch.delenv("CI", raising=False)
    spec.parent.mkdir(parents=True, exist_ok=True)
    spec.write_text(text, encoding="utf-8")
    analysis = analyze_file(spec, fill=True)
    assert analysis.pipeline is not None, [d.message for d in analysis.diagnostics]
    return analysis.pipeline


def _definition(pipeline: ir.Pipeline) -> dict[str, Any]:
    result = render_sagemaker(pipeline, SagemakerOptions(role_arn=ROLE, region=REGION))
    assert not [d for d in result.diagnostics if d.severity.value == "error"], result.diagnostics
    (text,) = [
        body for path, body in result.files.items() if path.endswith(f"{pipeline.name}.json")
    ]
    doc: dict[str, Any] = json.loads(text)
    return doc


def _definitions(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, dict[str, Any]]:
    """The spot trainer, and the tuning example with its tune step on spot."""
    trained = _pipeline(tmp_path / "train" / "pipeline.yaml", TRAIN_SPEC, monkeypatch)
    text = (ROOT / "examples" / "tuning" / "pipeline.yaml").read_text(encoding="utf-8")
    text = text.replace(
        "    kind: tune\n", "    kind: tune\n    targets: {sagemaker: {spot: true}}\n"
    )
    tuned = _pipeline(tmp_path / "tuning" / "pipeline.yaml", text, monkeypatch)
    return {"train": _definition(trained), "tuning": _definition(tuned)}


def _step(doc: dict[str, Any], name: str) -> dict[str, Any]:
    found: dict[str, Any] = next(s for s in doc["Steps"] if s["Name"] == name)
    return found


def _probe(tmp_path: Path, docs: dict[str, dict[str, Any]]) -> dict[str, list[str]]:
    paths = {}
    for name, doc in docs.items():
        paths[name] = tmp_path / f"{name}.json"
        paths[name].write_text(json.dumps(doc, sort_keys=True), encoding="utf-8")
    reports = probe_sagemaker_many(list(paths.values()))
    return {name: reports[path.resolve()]["problems"] for name, path in paths.items()}


def test_spot_and_checkpoints_are_accepted_and_mutations_caught(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    docs = _definitions(tmp_path, monkeypatch)
    train = _step(docs["train"], "train")["Arguments"]
    assert train["EnableManagedSpotTraining"] is True
    assert train["StoppingCondition"] == {
        "MaxRuntimeInSeconds": 7200,
        "MaxWaitTimeInSeconds": 21600,
    }
    assert train["CheckpointConfig"]["LocalPath"] == "/opt/ml/checkpoints"
    job = _step(docs["tuning"], "tune")["Arguments"]["TrainingJobDefinition"]
    assert job["EnableManagedSpotTraining"] is True
    assert job["StoppingCondition"] == {"MaxRuntimeInSeconds": 3600, "MaxWaitTimeInSeconds": 7200}

    mutations: dict[str, dict[str, Any]] = {}
    mutations["wait"] = copy.deepcopy(docs["train"])
    _step(mutations["wait"], "train")["Arguments"]["StoppingCondition"]["MaxWaitTimeInSeconds"] = 0
    mutations["flag"] = copy.deepcopy(docs["train"])
    _step(mutations["flag"], "train")["Arguments"]["EnableManagedSpotTraining"] = "true"
    mutations["checkpoint"] = copy.deepcopy(docs["train"])
    config = _step(mutations["checkpoint"], "train")["Arguments"]["CheckpointConfig"]
    config["S3Uri"] = "ftp://acme-ml/checkpoints"
    mutations["member"] = copy.deepcopy(docs["train"])
    _step(mutations["member"], "train")["Arguments"]["CheckpointConfig"]["LocalDir"] = "/x"
    mutations["tune"] = copy.deepcopy(docs["tuning"])
    tune = _step(mutations["tune"], "tune")["Arguments"]["TrainingJobDefinition"]
    tune["StoppingCondition"]["MaxWaitTimeInSecs"] = 7200

    problems = _probe(tmp_path, {**docs, **mutations})
    assert problems["train"] == [] and problems["tuning"] == [], problems
    expected = {
        "wait": "MaxWaitTimeInSeconds: 0 is outside MaxWaitTimeInSeconds's range [1, None]",
        "flag": "EnableManagedSpotTraining: string 'true' where Boolean is a boolean",
        "checkpoint": "S3Uri: 'ftp://acme-ml/checkpoints' does not match S3Uri's pattern",
        "member": "unknown member 'LocalDir' of CheckpointConfig",
        "tune": "unknown member 'MaxWaitTimeInSecs' of StoppingCondition",
    }
    for name, message in expected.items():
        assert any(message in p for p in problems[name]), (name, problems[name])
