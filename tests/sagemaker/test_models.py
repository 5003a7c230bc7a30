"""register, deploy and batch_predict as SageMaker entries (models.py, serving.py): what
each entry holds, the references later steps get, and the faults reported."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from pipespec import ir
from pipespec.backends.sagemaker.context import Context, Ref
from pipespec.backends.sagemaker.models import monitor_note, register_steps
from pipespec.backends.sagemaker.options import SagemakerOptions
from pipespec.backends.sagemaker.serving import batch_predict_steps, deploy_steps
from tests.backends.spec_ir import ir_of

ROLE = "arn:aws:iam::123456789012:role/pipelines"
ECR = "123456789012.dkr.ecr.eu-west-1.amazonaws.com"
TRAIN_MODEL = {"Get": "Steps.train.ModelArtifacts.S3ModelArtifacts"}
METRICS = {"Get": "Steps.evaluate.ProcessingOutputConfig.Outputs['metrics'].S3Output.S3Uri"}
SPEC = f"""
pipespec: 1
name: served
params:
  mode: {{type: string, default: prod}}
steps:
  train:
    kind: train
    image: {ECR}/churn:1
    command: [python, train.py, "${{outputs.model}}"]
    serving_image: {ECR}/churn-serving:1
  evaluate:
    kind: evaluate
    image: {ECR}/churn:1
    command: [python, eval.py, "${{inputs.model}}", "${{outputs.metrics}}"]
    inputs: {{model: train.model}}
  register:
    kind: register
    description: Weekly churn model
    inputs: {{model: train.model, metrics: evaluate.metrics}}
    model_group: churn
    approval: approved
    tags: {{team: growth}}
  deploy:
    kind: deploy
    inputs: {{model: train.model}}
    env: {{MODE: "run-${{params.mode}}"}}
    endpoint: {{name: churn-scorer, instance_type: small, min_replicas: 1, max_replicas: 4}}
  predict:
    kind: batch_predict
    inputs: {{model: train.model, data: "s3://acme/score/"}}
    keep_columns: [customer_id]
"""


def context(tmp_path: Path, text: str = SPEC, *, packed: bool = True) -> Context:
    """The pipeline's context with its producers' references registered as their own
    builders register them (a training job's model.tar.gz, a processing output)."""
    pipeline = ir_of(tmp_path, text)
    options = SagemakerOptions(role_arn=ROLE, region="eu-west-1")
    ctx = Context(pipeline, options, "eu-west-1", ROLE, "acme-ml")
    ctx.refs[("train", "model")] = Ref(TRAIN_MODEL, packed=packed)
    ctx.refs[("evaluate", "metrics")] = Ref(METRICS, ("evaluate", "metrics"))
    return ctx


def step(ctx: Context, step_id: str) -> ir.Step:
    return next(s for s in ctx.pipeline.steps if s.id == step_id)


def messages(found: list[tuple[ir.Step, str]]) -> str:
    return "\n".join(message for _, message in found)


def test_register_is_a_model_package_version(tmp_path: Path) -> None:
    ctx = context(tmp_path)
    (entry,) = register_steps(ctx, step(ctx, "register"))
    assert entry["Name"] == "register" and entry["Type"] == "RegisterModel"
    assert entry["Arguments"] == {
        "ModelPackageGroupName": "churn",
        "ModelApprovalStatus": "Approved",
        "ModelPackageDescription": "Weekly churn model",
        "InferenceSpecification": {
            # The serving image named where the model is made.
            "Containers": [{"Image": f"{ECR}/churn-serving:1", "ModelDataUrl": TRAIN_MODEL}],
            "SupportedContentTypes": ["text/csv"],
            "SupportedResponseMIMETypes": ["text/csv"],
        },
        "ModelMetrics": {
            "ModelQuality": {
                "Statistics": {
                    "ContentType": "application/json",
                    "S3Uri": {"Std:Join": {"On": "", "Values": [METRICS, "/metrics.json"]}},
                }
            }
        },
        "CustomerMetadataProperties": {"team": "growth"},
    }
    assert ctx.refs[("register", "model_version")] == Ref({"Get": "Steps.register.ModelPackageArn"})
    assert ctx.exits["register"] == ["register"]
    assert not ctx.errors and not ctx.warnings


@pytest.mark.parametrize(
    ("approval", "status"), [("pending", "PendingManualApproval"), ("rejected", "Rejected")]
)
def test_approval_status(tmp_path: Path, approval: str, status: str) -> None:
    ctx = context(tmp_path, SPEC.replace("approval: approved", f"approval: {approval}"))
    (entry,) = register_steps(ctx, step(ctx, "register"))
    assert entry["Arguments"]["ModelApprovalStatus"] == status


def test_no_serving_image_is_an_error_with_its_fix(tmp_path: Path) -> None:
    ctx = context(tmp_path, SPEC.replace(f"    serving_image: {ECR}/churn-serving:1\n", ""))
    register_steps(ctx, step(ctx, "register"))
    assert "set serving_image" in messages(ctx.errors)


def test_an_image_outside_ecr_is_a_warning(tmp_path: Path) -> None:
    ctx = context(tmp_path, SPEC.replace(f"{ECR}/churn-serving:1", "ghcr.io/acme/serve:1"))
    register_steps(ctx, step(ctx, "register"))
    assert "Amazon ECR" in messages(ctx.warnings)


def test_a_folder_model_is_served_uncompressed(tmp_path: Path) -> None:
    ctx = context(tmp_path, packed=False)
    (entry,) = register_steps(ctx, step(ctx, "register"))
    container = entry["Arguments"]["InferenceSpecification"]["Containers"][0]
    assert "ModelDataUrl" not in container
    assert container["ModelDataSource"] == {
        "S3DataSource": {
            "S3Uri": {"Std:Join": {"On": "", "Values": [TRAIN_MODEL, "/"]}},
            "S3DataType": "S3Prefix",
            "CompressionType": "None",
        }
    }
    assert "uncompressed" in messages(ctx.warnings)


@pytest.mark.parametrize(
    ("old", "new", "error"),
    [
        ("model_group: churn", "model_group: churn-", "model package group name"),
        ("team: growth", "team: 'growth!'", "'growth!'"),
    ],
)
def test_register_faults(tmp_path: Path, old: str, new: str, error: str) -> None:
    ctx = context(tmp_path, SPEC.replace(old, new))
    register_steps(ctx, step(ctx, "register"))
    assert error in messages(ctx.errors)


def test_deploy_is_a_model_a_config_and_an_endpoint(tmp_path: Path) -> None:
    ctx = context(tmp_path)
    model, config, endpoint = deploy_steps(ctx, step(ctx, "deploy"))
    assert [e["Name"] for e in (model, config, endpoint)] == [
        "deploy-model",
        "deploy-config",
        "deploy",
    ]
    assert [e["Type"] for e in (model, config, endpoint)] == ["Model", "EndpointConfig", "Endpoint"]
    assert model["Arguments"] == {
        "ExecutionRoleArn": ROLE,
        "PrimaryContainer": {
            "Image": f"{ECR}/churn-serving:1",
            "ModelDataUrl": TRAIN_MODEL,
            "Environment": {
                "MODE": {"Std:Join": {"On": "", "Values": ["run-", {"Get": "Parameters.mode"}]}}
            },
        },
    }
    execution = {"Get": "Execution.PipelineExecutionId"}
    assert config["Arguments"] == {
        "EndpointConfigName": {"Std:Join": {"On": "-", "Values": ["churn-scorer", execution]}},
        "ProductionVariants": [
            {
                "VariantName": "AllTraffic",
                "ModelName": {"Get": "Steps.deploy-model.ModelName"},
                "InitialInstanceCount": 1,
                "InstanceType": "ml.m5.large",
                "InitialVariantWeight": 1,
            }
        ],
    }
    assert endpoint["Arguments"] == {
        "EndpointName": "churn-scorer",
        "EndpointConfigName": {"Get": "Steps.deploy-config.EndpointConfigName"},
    }
    assert ctx.refs[("deploy", "endpoint")] == Ref({"Get": "Steps.deploy.EndpointName"})
    assert ctx.exits["deploy"] == ["deploy"]
    assert "Application Auto Scaling" in messages(ctx.warnings)
    assert not ctx.errors


@pytest.mark.parametrize(
    ("size", "instance", "error"),
    [("xlarge", "ml.m5.4xlarge", None), ("ml.g5.xlarge", "ml.g5.xlarge", None),
     ("n1-standard-4", "", "not a SageMaker instance type")],
)  # fmt: skip
def test_endpoint_instance_types(
    tmp_path: Path, size: str, instance: str, error: str | None
) -> None:
    ctx = context(tmp_path, SPEC.replace("instance_type: small", f"instance_type: {size}"))
    _, config, _ = deploy_steps(ctx, step(ctx, "deploy"))
    assert config["Arguments"]["ProductionVariants"][0]["InstanceType"] == instance
    assert (error in messages(ctx.errors)) if error else not ctx.errors


def test_a_long_endpoint_name_leaves_room_for_the_execution_id(tmp_path: Path) -> None:
    name = "e" * 60
    ctx = context(tmp_path, SPEC.replace("name: churn-scorer", f"name: {name}"))
    _, config, _ = deploy_steps(ctx, step(ctx, "deploy"))
    values = config["Arguments"]["EndpointConfigName"]["Std:Join"]["Values"]
    assert len(values[0]) + 1 + 12 <= 63
    assert not ctx.errors


def test_batch_predict_is_a_model_and_a_transform(tmp_path: Path) -> None:
    ctx = context(tmp_path)
    model, transform = batch_predict_steps(ctx, step(ctx, "predict"))
    assert (model["Name"], model["Type"]) == ("predict-model", "Model")
    assert (transform["Name"], transform["Type"]) == ("predict", "Transform")
    where = ctx.run_uri("predict", "predictions")
    args: dict[str, Any] = transform["Arguments"]
    assert args == {
        "ModelName": {"Get": "Steps.predict-model.ModelName"},
        "TransformInput": {
            "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": "s3://acme/score/"}},
            "ContentType": "text/csv",
            "SplitType": "Line",
        },
        "TransformOutput": {"S3OutputPath": where, "AssembleWith": "Line", "Accept": "text/csv"},
        "TransformResources": {"InstanceType": "ml.m5.xlarge", "InstanceCount": 1},
        "DataProcessing": {"JoinSource": "Input"},
    }
    assert ctx.refs[("predict", "predictions")] == Ref(where)
    assert ctx.exits["predict"] == ["predict"]
    assert "keep_columns" in messages(ctx.warnings)


def test_batch_predict_takes_the_steps_instance(tmp_path: Path) -> None:
    text = SPEC.replace(
        "    keep_columns: [customer_id]\n",
        "    targets: {sagemaker: {instance_type: ml.c5.2xlarge, instance_count: 2}}\n",
    )
    ctx = context(tmp_path, text)
    _, transform = batch_predict_steps(ctx, step(ctx, "predict"))
    resources = transform["Arguments"]["TransformResources"]
    assert resources == {"InstanceType": "ml.c5.2xlarge", "InstanceCount": 2}
    assert "DataProcessing" not in transform["Arguments"]


def test_monitor_note_names_what_sagemakers_checks_do(tmp_path: Path) -> None:
    text = SPEC + (
        "  monitor:\n    kind: monitor\n    image: python:3.12\n"
        "    command: [python, m.py, '${inputs.base}']\n"
        "    inputs: {base: 's3://acme/base/'}\n"
        "    drift: {metric: psi, threshold: 0.2}\n    schedule: '0 6 * * *'\n"
    )
    ctx = context(tmp_path, text)
    note = monitor_note(step(ctx, "monitor"))
    assert "psi drift" in note and "QualityCheckStep" in note
    assert "not on its own schedule" in note


def test_a_framework_serving_image_without_pipespecs_handler_is_said(tmp_path: Path) -> None:
    """SageMaker's framework images serve only through an inference script: a model from
    the user's own command in one of them would not serve (pipespec writes the script only
    for its standard train script's models)."""
    framework = "141502667606.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-scikit-learn:1.9-0-cpu-py3"
    text = SPEC.replace(f"{ECR}/churn-serving:1", framework)
    ctx = context(tmp_path, text)
    deploy_steps(ctx, next(s for s in ctx.pipeline.steps if s.id == "deploy"))
    assert any("serves a model through an inference script" in m for _, m in ctx.warnings)
    plain = context(tmp_path)
    deploy_steps(plain, next(s for s in plain.pipeline.steps if s.id == "deploy"))
    assert not any("inference script" in m for _, m in plain.warnings)


def test_a_model_steps_own_command_is_said_not_run(tmp_path: Path) -> None:
    """deploy, register and batch_predict are SageMaker's own steps: a command written on
    one is not run, and the warning says so (none without a command)."""
    from pipespec.backends.sagemaker.steps import build

    with_command = SPEC.replace(
        "    endpoint: {name: churn-scorer,",
        '    command: [python, deploy.py, "${inputs.model}"]\n    endpoint: {name: churn-scorer,',
    )
    for text, said in ((with_command, True), (SPEC, False)):
        ctx = context(tmp_path, text)
        build(ctx, next(s for s in ctx.pipeline.steps if s.id == "deploy"))
        assert any("own command is not run" in m for _, m in ctx.warnings) is said
