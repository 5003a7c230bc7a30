"""pipespec's inference handler on SageMaker (handler.py): a model of the standard train
script served by the catalog's framework image gets the handler's sourcedir.tar.gz and the
SDK's SAGEMAKER_* environment on CreateModel and on the model package; a serving image the
spec names, or a model of the step's own command, gets nothing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from pipespec import ir
from pipespec.backends.sagemaker.context import Context, Ref
from pipespec.backends.sagemaker.models import register_steps
from pipespec.backends.sagemaker.options import SagemakerOptions
from pipespec.backends.sagemaker.serving import batch_predict_steps, deploy_steps
from pipespec.fill.scripts import standard_script
from tests.backends.spec_ir import ir_of

ROLE = "arn:aws:iam::123456789012:role/pipelines"
TRAIN_MODEL = {"Get": "Steps.train.ModelArtifacts.S3ModelArtifacts"}
XGBOOST = "141502667606.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-xgboost:3.0-5"
SKLEARN = "141502667606.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-scikit-learn:1.9-0-cpu-py3"


def spec(train: str) -> str:
    return f"""
pipespec: 1
name: served
targets:
  sagemaker: {{role_arn: "{ROLE}", region: eu-west-1}}
steps:
  train:
    kind: train
{train}
    inputs: {{train: "s3://acme/train/"}}
  register:
    kind: register
    inputs: {{model: train.model}}
    model_group: churn
  deploy:
    kind: deploy
    inputs: {{model: train.model}}
    env: {{MODE: prod}}
    endpoint: {{name: churn-scorer, instance_type: small}}
  predict:
    kind: batch_predict
    inputs: {{model: train.model, data: "s3://acme/score/"}}
"""


STANDARD = """    script: pipespec:train
    framework: xgboost
    task: binary_classification"""
LIGHTGBM = STANDARD.replace("xgboost", "lightgbm")
OWN_SERVING = STANDARD + "\n    serving_image: 123456789012.dkr.ecr.eu-west-1.amazonaws.com/serve:1"
OWN_COMMAND = """    image: 123456789012.dkr.ecr.eu-west-1.amazonaws.com/train:1
    command: [python, train.py, "${outputs.model}"]
    framework: xgboost"""


def context(tmp_path: Path, train: str) -> Context:
    pipeline = ir_of(tmp_path, spec(train))
    ctx = Context(
        pipeline, SagemakerOptions(role_arn=ROLE, region="eu-west-1"), "eu-west-1", ROLE, "acme-ml"
    )
    ctx.refs[("train", "model")] = Ref(TRAIN_MODEL, packed=True)
    return ctx


def step(ctx: Context, step_id: str) -> ir.Step:
    return ctx.pipeline.step(step_id)


def containers(ctx: Context) -> dict[str, dict[str, Any]]:
    """Step id -> the container its model is served in."""
    (package,) = register_steps(ctx, step(ctx, "register"))
    model = deploy_steps(ctx, step(ctx, "deploy"))[0]
    batch = batch_predict_steps(ctx, step(ctx, "predict"))[0]
    return {
        "register": package["Arguments"]["InferenceSpecification"]["Containers"][0],
        "deploy": model["Arguments"]["PrimaryContainer"],
        "predict": batch["Arguments"]["PrimaryContainer"],
    }


def test_the_standard_model_in_the_catalog_image_runs_the_handler(tmp_path: Path) -> None:
    ctx = context(tmp_path, STANDARD)
    found = containers(ctx)
    (archive,) = [uri for uri in ctx.uploads if uri.endswith("/sourcedir.tar.gz")]
    handler = {
        "SAGEMAKER_PROGRAM": "serve.py",
        "SAGEMAKER_SUBMIT_DIRECTORY": archive,
        "SAGEMAKER_CONTAINER_LOG_LEVEL": "20",
        "SAGEMAKER_REGION": "eu-west-1",
    }
    assert archive.startswith("s3://acme-ml/pipespec/code/")
    assert found["register"] == {
        "Image": XGBOOST,
        "ModelDataUrl": TRAIN_MODEL,
        "Environment": handler,
    }
    # The step's own env first, the SDK's variables after it (they win, as in the SDK).
    assert list(found["deploy"]["Environment"]) == ["MODE", *handler]
    assert found["deploy"]["Environment"] == {"MODE": "prod", **handler}
    assert found["predict"]["Environment"] == handler
    members = json.loads(ctx.uploads[archive])
    assert members == {"serve.py": standard_script("serve").source}


def test_a_framework_the_image_lacks_is_installed_from_requirements(tmp_path: Path) -> None:
    ctx = context(tmp_path, LIGHTGBM)
    assert containers(ctx)["deploy"]["Image"] == SKLEARN
    (archive,) = [uri for uri in ctx.uploads if uri.endswith("/sourcedir.tar.gz")]
    members = json.loads(ctx.uploads[archive])
    assert sorted(members) == ["requirements.txt", "serve.py"]
    assert members["requirements.txt"].startswith("lightgbm==")


@pytest.mark.parametrize("train", [OWN_SERVING, OWN_COMMAND], ids=["own-image", "own-command"])
def test_nothing_is_added_to_what_pipespec_did_not_make(tmp_path: Path, train: str) -> None:
    ctx = context(tmp_path, train)
    found = containers(ctx)
    assert "Environment" not in found["register"]
    assert found["deploy"]["Environment"] == {"MODE": "prod"}
    assert found["predict"]["Environment"] == {}
    assert not [uri for uri in ctx.uploads if uri.endswith("/sourcedir.tar.gz")]
    assert all(not s.serving_code for s in ctx.pipeline.steps)
