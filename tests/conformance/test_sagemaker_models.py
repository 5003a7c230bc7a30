"""register, deploy and batch_predict entries in a definition the SageMaker probe accepts
(AWS's schema with its corrections, botocore's CreateModelPackage / CreateModel /
CreateEndpointConfig / CreateEndpoint / CreateTransformJob shapes, every ``Get`` path in the
Describe* shapes): the producers are hand-written Training and Processing entries, a Fail
entry reads the model version and endpoint references as a consumer would. A wrong ``Get``
path or step type in them is caught."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from pipespec.backends.sagemaker.context import Context
from pipespec.backends.sagemaker.models import register_steps
from pipespec.backends.sagemaker.parameters import join, parameters
from pipespec.backends.sagemaker.serving import batch_predict_steps, deploy_steps
from tests.conformance.sagemaker_runner import probe_sagemaker_many
from tests.sagemaker.test_models import ROLE, context, step

pytestmark = pytest.mark.conformance
Definition = dict[str, Any]


def _train() -> Definition:
    arguments = {
        "AlgorithmSpecification": {
            "TrainingImage": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/churn:1",
            "TrainingInputMode": "File",
        },
        "RoleArn": ROLE,
        "OutputDataConfig": {"S3OutputPath": "s3://acme-ml/pipespec/served/models"},
        "ResourceConfig": {
            "InstanceType": "ml.m5.xlarge",
            "InstanceCount": 1,
            "VolumeSizeInGB": 30,
        },
        "StoppingCondition": {"MaxRuntimeInSeconds": 3600},
    }
    return {"Name": "train", "Type": "Training", "Arguments": arguments}


def _evaluate(ctx: Context) -> Definition:
    output = {
        "OutputName": "metrics",
        "AppManaged": False,
        "S3Output": {
            "S3Uri": ctx.run_uri("evaluate", "metrics"),
            "LocalPath": "/opt/ml/processing/output/metrics",
            "S3UploadMode": "EndOfJob",
        },
    }
    arguments = {
        "ProcessingResources": {
            "ClusterConfig": {
                "InstanceType": "ml.m5.xlarge",
                "InstanceCount": 1,
                "VolumeSizeInGB": 30,
            }
        },
        "AppSpecification": {"ImageUri": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/churn:1"},
        "RoleArn": ROLE,
        "ProcessingOutputConfig": {"Outputs": [output]},
    }
    files = [{"PropertyFileName": "metrics", "OutputName": "metrics", "FilePath": "metrics.json"}]
    return {
        "Name": "evaluate",
        "Type": "Processing",
        "Arguments": arguments,
        "PropertyFiles": files,
    }


def _definition(where: Path, *, packed: bool = True) -> Definition:
    """The unit tests' spec (tests/sagemaker/test_models.py) as a definition."""
    where.mkdir(parents=True, exist_ok=True)
    ctx = context(where, packed=packed)
    steps = [_train(), _evaluate(ctx)]
    steps += register_steps(ctx, step(ctx, "register"))
    steps += deploy_steps(ctx, step(ctx, "deploy"))
    steps += batch_predict_steps(ctx, step(ctx, "predict"))
    # A consumer of the value outputs: their references must name real properties.
    version = ctx.ref("register", "model_version").uri
    endpoint = ctx.ref("deploy", "endpoint").uri
    message = join(["registered ", version, " served at ", endpoint])
    steps.append({"Name": "report", "Type": "Fail", "Arguments": {"ErrorMessage": message}})
    assert not ctx.errors, ctx.errors
    return {
        "Version": "2020-12-01",
        "Metadata": {},
        "Parameters": parameters(ctx.pipeline),
        "Steps": steps,
    }


def _entry(definition: Definition, name: str) -> Definition:
    found: Definition = next(s for s in definition["Steps"] if s["Name"] == name)
    return found


def _set_get(definition: Definition, name: str, path: list[str | int], value: str) -> None:
    node: Any = _entry(definition, name)["Arguments"]
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = {"Get": value}


Mutation = Callable[[Definition], Any]
# name -> (mutation of the accepted definition, text a problem must contain)
MUTATIONS: dict[str, tuple[Mutation, str]] = {
    "endpoint-config-get": (
        lambda d: _set_get(d, "deploy", ["EndpointConfigName"], "Steps.deploy-config.ConfigName"),
        "no member 'ConfigName' in DescribeEndpointConfigOutput",
    ),
    "model-name-get": (
        lambda d: _set_get(d, "predict", ["ModelName"], "Steps.predict-model.Name"),
        "no member 'Name' in DescribeModelOutput",
    ),
    "model-version-get": (
        lambda d: _entry(d, "report")["Arguments"].update(
            ErrorMessage={"Get": "Steps.register.ModelPackageUri"}
        ),
        "no member 'ModelPackageUri' in DescribeModelPackageOutput",
    ),
    "endpoint-type": (
        lambda d: _entry(d, "deploy-config").update(Type="Endpoint"),
        "deploy-config",
    ),
    "approval-status": (
        lambda d: _entry(d, "register")["Arguments"].update(ModelApprovalStatus="approved"),
        "'approved' is not one of ModelApprovalStatus's values",
    ),
}


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    """The accepted definitions and every mutation: one probe subprocess in all."""
    out = tmp_path_factory.mktemp("sagemaker-models")
    docs = {
        "packed": _definition(out / "packed"),
        "folder": _definition(out / "folder", packed=False),
    }
    for name, (mutate, _) in MUTATIONS.items():
        docs[name] = copy.deepcopy(docs["packed"])
        mutate(docs[name])
    paths = {}
    for name, doc in docs.items():
        paths[name] = out / f"{name}.json"
        paths[name].write_text(json.dumps(doc, sort_keys=True), encoding="utf-8")
    by_path = probe_sagemaker_many(list(paths.values()), timeout=300)
    return {name: by_path[path.resolve()] for name, path in paths.items()}


@pytest.mark.parametrize("model", ["packed", "folder"])
def test_model_entries_are_accepted(model: str, reports: dict[str, dict[str, Any]]) -> None:
    report = reports[model]
    assert report["problems"] == [], "\n".join(report["problems"])
    assert report["steps"] == {
        "train": "Training",
        "evaluate": "Processing",
        "register": "RegisterModel",
        "deploy-model": "Model",
        "deploy-config": "EndpointConfig",
        "deploy": "Endpoint",
        "predict-model": "Model",
        "predict": "Transform",
        "report": "Fail",
    }


@pytest.mark.parametrize("name", sorted(MUTATIONS))
def test_mutation_is_reported(name: str, reports: dict[str, dict[str, Any]]) -> None:
    problems = reports[name]["problems"]
    assert any(MUTATIONS[name][1] in p for p in problems), problems
