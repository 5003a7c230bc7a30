"""The SageMaker probe itself, on pipeline definitions the sagemaker 2.x SDK builds offline from
``samples/sagemaker/*.py`` (in the sagemaker venv, at test time) and on mutations of them
that SageMaker would reject.

The SDK's definitions must report no problem (the schema corrections say why AWS's schema
alone would reject them, and each must still be needed); every mutation must make the probe
report a problem naming what is wrong.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conformance.sagemaker_runner import (
    build_samples,
    corrections_needed,
    probe_sagemaker_many,
)

pytestmark = pytest.mark.conformance

SAMPLES = sorted((Path(__file__).resolve().parent / "samples" / "sagemaker").glob("*.py"))
Definition = dict[str, Any]
TRAIN = "train_evaluate_register"
TUNE = "tune_model_transform"
DEPLOY = "deploy_when"


def _step(definition: Definition, name: str) -> Definition:
    """A step by name, at the top or in a condition's branch."""
    pending = list(definition["Steps"])
    while pending:
        step: Definition = pending.pop()
        if step["Name"] == name:
            return step
        arguments = step.get("Arguments", {}) if step["Type"] == "Condition" else {}
        pending += arguments.get("IfSteps", []) + arguments.get("ElseSteps", [])
    raise KeyError(name)


def _args(definition: Definition, name: str) -> Definition:
    arguments: Definition = _step(definition, name)["Arguments"]
    return arguments


def _container(definition: Definition) -> Definition:
    containers = _args(definition, "Register-RegisterModel")["InferenceSpecification"]
    container: Definition = containers["Containers"][0]
    return container


def _condition(definition: Definition) -> Definition:
    condition: Definition = _args(definition, "CheckAccuracy")["Conditions"][0]
    return condition


def _drop_parameter(definition: Definition) -> None:
    definition["Parameters"] = [p for p in definition["Parameters"] if p["Name"] != "MinAccuracy"]


Mutation = Callable[[Definition], Any]
# name -> (sample, mutation of its definition, text the probe's problems must contain)
MUTATIONS: dict[str, tuple[str, Mutation, str]] = {
    "unknown-arguments-member": (
        TRAIN,
        lambda d: _args(d, "Prep").update(ProcessingJobNme="prep"),
        "unknown member 'ProcessingJobNme' of CreateProcessingJobRequest",
    ),
    "wrong-enum": (
        TRAIN,
        lambda d: _args(d, "Train")["AlgorithmSpecification"].update(TrainingInputMode="Folder"),
        "'Folder' is not one of TrainingInputMode's values",
    ),
    "missing-required-member": (
        TRAIN,
        lambda d: _args(d, "Train").pop("RoleArn"),
        "lacks required member 'RoleArn' of CreateTrainingJobRequest",
    ),
    "missing-nested-required-member": (
        TUNE,
        lambda d: _args(d, "Score")["TransformResources"].pop("InstanceType"),
        "lacks required member 'InstanceType' of TransformResources",
    ),
    "wrong-type": (
        TRAIN,
        lambda d: _args(d, "Prep")["ProcessingResources"]["ClusterConfig"].update(
            InstanceCount="1"
        ),
        "string '1' where ProcessingInstanceCount is a integer",
    ),
    "pattern": (
        TUNE,
        lambda d: _args(d, "CreateModel-CreateModel").update(ExecutionRoleArn="SageMakerRole"),
        "'SageMakerRole' does not match RoleArn's pattern",
    ),
    "too-long": (
        TRAIN,
        lambda d: _args(d, "Register-RegisterModel").update(ModelPackageGroupName="g" * 171),
        "171 characters, more than ArnOrName's maximum 170",
    ),
    "placeholder-for-a-structure": (
        TRAIN,
        lambda d: _args(d, "Prep").update(ProcessingResources={"Get": "Parameters.InstanceType"}),
        "a Get placeholder where ProcessingResources is a structure",
    ),
    "get-path-missing": (
        TRAIN,
        lambda d: _container(d).update(
            ModelDataUrl={"Get": "Steps.Train.ModelArtifacts.S3ModelUri"}
        ),
        "no member 'S3ModelUri' in ModelArtifacts",
    ),
    "get-unknown-step": (
        TRAIN,
        lambda d: _container(d).update(
            ModelDataUrl={"Get": "Steps.Trian.ModelArtifacts.S3ModelArtifacts"}
        ),
        "Get 'Steps.Trian.ModelArtifacts.S3ModelArtifacts': no step 'Trian'",
    ),
    "get-undeclared-property-file": (
        TRAIN,
        lambda d: _condition(d)["LeftValue"]["Std:JsonGet"].update(
            PropertyFile={"Get": "Steps.Evaluate.PropertyFiles.Report"}
        ),
        "step 'Evaluate' declares no property file 'Report'",
    ),
    "tuning-property-missing": (
        TUNE,
        lambda d: _args(d, "CreateModel-CreateModel")["PrimaryContainer"].update(
            ModelDataUrl={"Get": "Steps.Tune.BestTrainingJob.ModelUri"}
        ),
        "no member 'ModelUri' in HyperParameterTrainingJobSummary",
    ),
    "endpoint-get-path-missing": (
        DEPLOY,
        lambda d: _args(d, "ServeEndpoint").update(
            EndpointConfigName={"Get": "Steps.ServeConfig.ConfigName"}
        ),
        "no member 'ConfigName' in DescribeEndpointConfigOutput",
    ),
    "endpoint-config-missing-variants": (
        DEPLOY,
        lambda d: _args(d, "ServeConfig").pop("ProductionVariants"),
        "lacks required member 'ProductionVariants' of CreateEndpointConfigInput",
    ),
    "undeclared-parameter": (
        TRAIN,
        _drop_parameter,
        "Get 'Parameters.MinAccuracy': no parameter 'MinAccuracy' is declared",
    ),
    "unknown-execution-variable": (
        TRAIN,
        lambda d: d["PipelineExperimentConfig"].update(TrialName={"Get": "Execution.RunId"}),
        "'RunId' is no execution variable",
    ),
    "depends-on-missing-step": (
        TUNE,
        lambda d: _step(d, "Score").update(DependsOn=["CreateModel"]),
        "DependsOn 'CreateModel', which is no step",
    ),
    "cycle": (
        TUNE,
        lambda d: _step(d, "Tune").update(DependsOn=["Score"]),
        "dependency cycle: CreateModel-CreateModel -> Tune -> Score -> CreateModel-CreateModel",
    ),
    "duplicate-step-name": (
        TRAIN,
        lambda d: _step(d, "TooInaccurate").update(Name="Prep"),
        "step 'Prep': the name is used twice",
    ),
    "schema-version": (
        TRAIN,
        lambda d: d.update(Version="2021-01-01"),
        "schema: .Version: '2021-01-01' is not one of ['2020-12-01']",
    ),
    "schema-step-member": (
        TUNE,
        lambda d: _step(d, "Score").update(Retries=3),
        "schema: .Steps[2]: Additional properties are not allowed ('Retries' was unexpected)",
    ),
    "too-big": (
        TRAIN,
        lambda d: _args(d, "TooInaccurate").update(ErrorMessage="x" * 1_100_000),
        "more than CreatePipeline's 1048576",
    ),
}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    return build_samples(tmp_path_factory.mktemp("sagemaker"), SAMPLES, timeout=300)


@pytest.fixture(scope="module")
def reports(
    built: dict[str, dict[str, Any]], tmp_path_factory: pytest.TempPathFactory
) -> dict[str, dict[str, Any]]:
    """Every sample, every mutation: one probe subprocess in all."""
    out = tmp_path_factory.mktemp("sagemaker-mutations")
    paths = {name: Path(entry["path"]) for name, entry in built.items()}
    for name, (sample, mutate, _) in MUTATIONS.items():
        definition = copy.deepcopy(json.loads(paths[sample].read_text(encoding="utf-8")))
        mutate(definition)
        paths[name] = out / f"{name}.json"
        paths[name].write_text(json.dumps(definition), encoding="utf-8")
    by_path = probe_sagemaker_many(list(paths.values()), timeout=300)
    return {name: by_path[path.resolve()] for name, path in paths.items()}


@pytest.mark.parametrize("sample", [s.stem for s in SAMPLES])
def test_sample_builds_offline(sample: str, built: dict[str, dict[str, Any]]) -> None:
    assert built[sample]["network_attempts"] == []


@pytest.mark.parametrize("sample", [s.stem for s in SAMPLES])
def test_sample_is_accepted(sample: str, reports: dict[str, dict[str, Any]]) -> None:
    assert reports[sample]["problems"] == []


def test_samples_cover_the_step_types(reports: dict[str, dict[str, Any]]) -> None:
    types = {t for s in SAMPLES for t in reports[s.stem]["steps"].values()}
    assert types == {
        "Processing",
        "Training",
        "Tuning",
        "Condition",
        "Model",
        "Transform",
        "RegisterModel",
        "Fail",
        "EndpointConfig",
        "Endpoint",
    }


def test_every_schema_correction_is_still_needed(built: dict[str, dict[str, Any]]) -> None:
    """A correction the SDK's output no longer needs would loosen the schema for nothing."""
    corrections = corrections_needed([Path(entry["path"]) for entry in built.values()])
    assert corrections, "the schema needs no correction any more: drop the mechanism?"
    assert [c["at"] for c in corrections if not c["needed"]] == []
    assert all(len(c["why"]) > 40 for c in corrections)


@pytest.mark.parametrize("name", sorted(MUTATIONS))
def test_mutation_is_reported(name: str, reports: dict[str, dict[str, Any]]) -> None:
    problems = reports[name]["problems"]
    assert any(MUTATIONS[name][2] in p for p in problems), problems
