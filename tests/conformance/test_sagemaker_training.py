"""Train and tune steps as SageMaker entries, accepted by the SageMaker probe (AWS's schema
with its corrections, botocore's CreateTrainingJob / CreateHyperParameterTuningJob /
CreateProcessingJob shapes, every ``Get`` path, e.g. ``BestTrainingJob.TrainingJobName`` in
DescribeHyperParameterTuningJob, references and the graph).

The definitions hold the examples' train and tune steps with the steps they read from
(processing steps) and the steps reading their outputs; steps of other kinds are left out,
so this tests these builders alone, as ``definition`` will place them.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from pipespec import ir
from pipespec.api import analyze_file
from pipespec.backends.sagemaker.context import Context
from pipespec.backends.sagemaker.options import SagemakerOptions
from pipespec.backends.sagemaker.parameters import parameters
from pipespec.backends.sagemaker.processing import processing_step
from pipespec.backends.sagemaker.training import training_step
from pipespec.backends.sagemaker.tuning import tuning_steps
from tests.backends.spec_ir import ir_of
from tests.conformance.sagemaker_runner import probe_sagemaker_many
from tests.conftest import ROOT

pytestmark = pytest.mark.conformance

ROLE = "arn:aws:iam::123456789012:role/pipelines"
REGION = "eu-west-1"
_PROCESSING = ("container", "ingest", "transform", "evaluate", "monitor")
TRAIN_SPEC = """
pipespec: 1
name: own-trainer
params:
  rate: {type: float, default: 0.1}
  kind: {type: string, default: ml.m5.2xlarge}
steps:
  prep:
    kind: container
    image: prep:1
    command: [prep, "${outputs.data}", "${outputs.stats}"]
    outputs: {data: dataset, stats: metrics}
  train:
    kind: train
    image: trainer:1
    script: fit.py
    args: [--data, "${inputs.data}", --stats, "${inputs.stats}", --rate, "${params.rate}",
           --model, "${outputs.model}"]
    inputs: {data: prep.data, stats: prep.stats}
    hyperparameters: {rate: "${params.rate}", depth: 3}
    env: {MODE: fast}
    targets: {sagemaker: {instance_type: "${params.kind}", instance_count: 2}}
  score:
    kind: container
    image: prep:1
    command: [score, "${inputs.model}"]
    inputs: {model: train.model}
    after: [train]
"""


def _definition(pipeline: ir.Pipeline) -> tuple[Context, dict[str, Any]]:
    """The entries of the steps these builders (and processing) make, with DependsOn as
    the definition writes it: on the first entry, the dependencies' exit entries."""
    options = SagemakerOptions(role_arn=ROLE, region=REGION)
    ctx = Context(pipeline, options, REGION, ROLE, "acme-ml")
    steps: list[dict[str, Any]] = []
    for step in pipeline.steps:
        if step.condition is not None or step.foreach is not None:
            continue
        if step.kind == "train":
            entries = training_step(ctx, step)
        elif step.kind == "tune":
            entries = tuning_steps(ctx, step)
        elif step.kind in _PROCESSING:
            entries = [processing_step(ctx, step, ctx.instance_type)]
        else:
            continue
        depends = [e for d in step.deps for e in ctx.exits.get(d.source, [])]
        if depends and entries:
            entries[0]["DependsOn"] = depends
        steps += entries
    doc = {"Version": "2020-12-01", "Metadata": {}, "Parameters": parameters(pipeline)}
    return ctx, {**doc, "Steps": steps}


def _example(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ir.Pipeline:
    monkeypatch.delenv("CI", raising=False)
    text = (ROOT / "examples" / name / "pipeline.yaml").read_text(encoding="utf-8")
    if "  sagemaker:" not in text:  # the catalog's SageMaker images are per region
        text += f'  sagemaker: {{role_arn: "{ROLE}", region: {REGION}}}\n'
    spec = tmp_path / name / "pipeline.yaml"
    spec.parent.mkdir()
    spec.write_text(text, encoding="utf-8")
    analysis = analyze_file(spec, fill=True)
    assert analysis.pipeline is not None, [d.message for d in analysis.diagnostics]
    return analysis.pipeline


def _probe(tmp_path: Path, docs: dict[str, dict[str, Any]]) -> dict[str, list[str]]:
    paths = {}
    for name, doc in docs.items():
        paths[name] = tmp_path / f"{name}.json"
        paths[name].write_text(json.dumps(doc, sort_keys=True), encoding="utf-8")
    reports = probe_sagemaker_many(list(paths.values()))
    return {name: reports[path.resolve()]["problems"] for name, path in paths.items()}


def test_train_and_tune_entries_are_accepted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "fit.py").write_text("print('fit')\n")
    docs: dict[str, dict[str, Any]] = {}
    types: dict[str, list[str]] = {}
    for example in ("tuning", "tuning-own", "registry", "showcase"):
        ctx, docs[example] = _definition(_example(example, tmp_path, monkeypatch))
        assert not ctx.errors, ctx.errors
        types[example] = [s["Type"] for s in docs[example]["Steps"]]
    ctx, docs["own"] = _definition(ir_of(tmp_path, TRAIN_SPEC))
    assert not ctx.errors, ctx.errors
    problems = _probe(tmp_path, docs)
    assert problems == {name: [] for name in docs}
    assert "Tuning" in types["tuning"] and "Training" in types["registry"]
    assert types["tuning-own"].count("Processing") == 8  # split, 6 trials, the pick
    # The own-command tune of the showcase runs once; its train is a training job.
    assert "Training" in types["showcase"] and "Tuning" not in types["showcase"]
    score = next(s for s in docs["own"]["Steps"] if s["Name"] == "score")
    assert score["DependsOn"] == ["train"]


def test_wrong_references_and_values_are_caught(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The probe proves the entries: each mutation of an accepted one is reported."""
    _, tuned = _definition(_example("tuning", tmp_path, monkeypatch))
    (tmp_path / "fit.py").write_text("print('fit')\n")
    _, trained = _definition(ir_of(tmp_path, TRAIN_SPEC))
    by_name = {s["Name"]: s for s in tuned["Steps"]}
    bad_path = copy.deepcopy(tuned)
    best = next(s for s in bad_path["Steps"] if s["Name"] == "tune-best")
    uri = best["Arguments"]["ProcessingInputs"][0]["S3Input"]["S3Uri"]["Std:Join"]["Values"]
    uri[-3] = {"Get": "Steps.tune.BestTrainingJob.TrainingJobNme"}
    bad_scaling = copy.deepcopy(tuned)
    tune = next(s for s in bad_scaling["Steps"] if s["Name"] == "tune")
    ranges = tune["Arguments"]["HyperParameterTuningJobConfig"]["ParameterRanges"]
    ranges["ContinuousParameterRanges"][0]["ScalingType"] = "Log"
    bad_argument = copy.deepcopy(trained)
    train = next(s for s in bad_argument["Steps"] if s["Name"] == "train")
    train["Arguments"]["AlgorithmSpecification"]["ContainerArguments"] = ["x" * 257]
    problems = _probe(
        tmp_path, {"path": bad_path, "scaling": bad_scaling, "argument": bad_argument}
    )
    assert any("no member 'TrainingJobNme'" in p for p in problems["path"]), problems
    assert any("'Log' is not one of" in p for p in problems["scaling"]), problems
    assert any(
        "more than TrainingContainerArgument's maximum 256" in p for p in problems["argument"]
    )
    assert "tune" in by_name
