"""Container and script steps as SageMaker Processing steps, accepted by the SageMaker
probe (AWS's schema with its corrections, botocore's CreateProcessingJob shape, every
`Get` path in DescribeProcessingJob, references and the graph): the first slice of the
SageMaker backend (issue 13)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from pipespec import ir
from pipespec.backends.sagemaker.context import Context
from pipespec.backends.sagemaker.definition import definition
from pipespec.backends.sagemaker.options import SagemakerOptions
from tests.backends.spec_ir import ir_of
from tests.conformance.sagemaker_runner import probe_sagemaker
from tests.conftest import ROOT

ROLE = "arn:aws:iam::123456789012:role/pipelines"
SPEC = """
pipespec: 1
name: processed
params:
  day: {type: string, default: "2024-01-01"}
  size: {type: int, default: 3}
steps:
  make:
    kind: container
    image: python:3.12-slim
    command: [python, -c, "print(1)", "--day=${params.day}", "${outputs.data}", "${outputs.stats}"]
    outputs: {data: dataset, stats: metrics}
    env: {MODE: fast}
    timeout: 1h
    resources: {cpu: 4, memory: 16Gi}
  use:
    kind: container
    image: python:3.12-slim
    command: [python, -c, "print(2)", "${inputs.data}", "${inputs.stats}", "${params.size}"]
    inputs: {data: make.data, stats: make.stats}
"""


def _context(pipeline: ir.Pipeline) -> Context:
    options = SagemakerOptions(role_arn=ROLE, region="eu-west-1", bucket="acme-ml")
    return Context(pipeline, options, "eu-west-1", ROLE, "acme-ml")


def _probe(tmp_path: Path, doc: dict[str, Any]) -> dict[str, Any]:
    path = tmp_path / "definition.json"
    path.write_text(json.dumps(doc, sort_keys=True), encoding="utf-8")
    return probe_sagemaker(path)


@pytest.mark.parametrize("example", ["minimal"])
def test_an_examples_container_steps_are_accepted(tmp_path: Path, example: str) -> None:
    text = (ROOT / "examples" / example / "pipeline.yaml").read_text(encoding="utf-8")
    ctx = _context(ir_of(tmp_path, text))
    report = _probe(tmp_path, definition(ctx))
    assert report["problems"] == [], "\n".join(report["problems"])
    assert not ctx.errors


def test_data_values_and_params_between_processing_steps(tmp_path: Path) -> None:
    ctx = _context(ir_of(tmp_path, SPEC))
    doc = definition(ctx)
    report = _probe(tmp_path, doc)
    assert report["problems"] == [], "\n".join(report["problems"])
    make, use = doc["Steps"]
    assert make["Arguments"]["ProcessingResources"]["ClusterConfig"]["InstanceType"] == (
        "ml.m5.xlarge"
    )
    assert make["Arguments"]["StoppingCondition"] == {"MaxRuntimeInSeconds": 3600}
    assert make["PropertyFiles"] == [
        {"PropertyFileName": "stats", "OutputName": "stats", "FilePath": "stats.json"}
    ]
    # A reported value is text in the command on every target: SageMaker passes files,
    # so the step starts through the launcher, whose plan (an uploaded code file) reads
    # the value's file; a parameter reaches it through the job's environment.
    app = use["Arguments"]["AppSpecification"]
    assert app["ContainerEntrypoint"] == [
        "python3",
        "/opt/ml/processing/input/code/pipespec_launch.py",
    ]
    assert app["ContainerArguments"] == ["/opt/ml/processing/input/code/launch.json"]
    env = use["Arguments"]["Environment"]
    assert env == {
        "PIPESPEC_PARAM_size": {"Std:Join": {"On": "", "Values": [{"Get": "Parameters.size"}]}}
    }
    (plan_uri,) = [u for u in ctx.uploads if u.endswith("/launch.json")]
    plan = json.loads(ctx.uploads[plan_uri])
    assert plan["argv"][3:] == [
        [{"text": "/opt/ml/processing/input/data"}],
        [{"file": "/opt/ml/processing/input/stats/stats.json"}],
        [{"env": "PIPESPEC_PARAM_size"}],
    ]
    day = doc["Steps"][0]["Arguments"]["AppSpecification"]["ContainerArguments"][2]
    assert day == {"Std:Join": {"On": "", "Values": ["--day=", {"Get": "Parameters.day"}]}}
    assert use["DependsOn"] == ["make"]


def test_a_broken_reference_is_caught(tmp_path: Path) -> None:
    """The probe is what proves the slice: a wrong output name in a `Get` fails it."""
    doc = definition(_context(ir_of(tmp_path, SPEC)))
    inputs = doc["Steps"][1]["Arguments"]["ProcessingInputs"]
    inputs[0]["S3Input"]["S3Uri"] = {"Get": "Steps.nope.ProcessingOutputConfig.Outputs"}
    assert _probe(tmp_path, doc)["problems"]


CONTROL = """
pipespec: 1
name: controlled
steps:
  work:
    kind: container
    description: Does the work
    image: python:3.12-slim
    command: [python, -c, "print(1)"]
    retries: 3
    retry_delay: 30s
    cache: true
  stop:
    kind: fail
    message: "the work was not good enough: \\"quoted\\" ${HOME}"
    after: [work]
"""


def test_retries_cache_description_and_fail_steps(tmp_path: Path) -> None:
    doc = definition(_context(ir_of(tmp_path, CONTROL)))
    report = _probe(tmp_path, doc)
    assert report["problems"] == [], "\\n".join(report["problems"])
    work, stop = doc["Steps"]
    assert work["Description"] == "Does the work"
    assert work["CacheConfig"] == {"Enabled": True, "ExpireAfter": "P30D"}
    assert [p["IntervalSeconds"] for p in work["RetryPolicies"]] == [30, 30]
    assert {p["MaxAttempts"] for p in work["RetryPolicies"]} == {3}
    assert stop == {
        "Name": "stop",
        "Type": "Fail",
        "Arguments": {"ErrorMessage": 'the work was not good enough: "quoted" ${HOME}'},
        "DependsOn": ["work"],
    }
