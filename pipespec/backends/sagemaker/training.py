"""A ``train`` step as a SageMaker TrainingStep (CreateTrainingJob), in the form the
sagemaker SDK writes it, with the step's own command as the container's entrypoint.

Paths in the container follow SageMaker's training convention: an input ``x`` is the
channel ``x`` at ``/opt/ml/input/data/x``; the model is ``/opt/ml/model``, which SageMaker
packs into ``model.tar.gz`` under the job's output path when the job ends (the model's
``Ref`` is ``packed``: a consumer's launcher unpacks it). A script arrives as the channel
``code`` (its content-keyed folder on S3) and runs as
``python3 /opt/ml/input/data/code/<file> ARGS``. A training job keeps only the model: any
other output of a train step is an error here (a step that reports values is a container
step, or writes them beside the model).

The command starts through pipespec's launcher when it needs something at start (values
another step reported, secrets, a packed model to unpack, an argument over SageMaker's 256
characters): ``launch.py``, shared with processing steps. A catalog image that lacks a
package for the framework (LightGBM on the scikit-learn image) installs it first
(``launch.with_requirements``; the packages come from pipespec's catalog, never from a
spec).
"""

from __future__ import annotations

import json
from typing import Any

from pipespec import ir
from pipespec.backends.placeholders import param_of
from pipespec.backends.sagemaker.context import Context, Ref
from pipespec.backends.sagemaker.instances import InstanceError, instance_count, instance_type
from pipespec.backends.sagemaker.launch import Launch
from pipespec.backends.sagemaker.parameters import get, join, param_ref
from pipespec.backends.sagemaker.resolver import JobResolver, mounted_inputs
from pipespec.backends.sagemaker.spot import spot_members, stopping_condition

CHANNEL_ROOT = "/opt/ml/input/data"
MODEL_DIR = "/opt/ml/model"
CODE_CHANNEL = "code"
CODE_DIR = f"{CHANNEL_ROOT}/{CODE_CHANNEL}"
VOLUME_GB = 30
MAX_HYPERPARAMETER = 2500  # CreateTrainingJob: the length of one hyperparameter's value
_S3_SOURCE = {"S3DataType": "S3Prefix", "S3DataDistributionType": "FullyReplicated"}


class TrainingResolver(JobResolver):
    """A training job's placeholders: inputs as channels under /opt/ml/input/data, the
    model at /opt/ml/model (the only output a training job keeps: checked in
    training_step)."""

    what = "training job"

    def __init__(self, ctx: Context) -> None:
        super().__init__(ctx, CHANNEL_ROOT)

    def output(self, step: ir.Step, output: ir.Output) -> Any:
        return MODEL_DIR


def channels(ctx: Context, step: ir.Step, launch: Launch) -> list[dict[str, Any]]:
    """The job's InputDataConfig: one channel per input read from S3 (a param-fed input
    travels as an argument), one per copy of an unrolled foreach producer."""
    found: list[dict[str, Any]] = []
    for inp, sub, ref in mounted_inputs(ctx, step):
        if ref.packed:
            launch.unpack.append(f"{CHANNEL_ROOT}/{inp.name}{sub}")
        s3 = {"S3Uri": ref.uri, **_S3_SOURCE}
        name = inp.name + sub.replace("/", "-")
        found.append({"ChannelName": name, "DataSource": {"S3DataSource": s3}})
    return found


def code_channel(uri: str) -> dict[str, Any]:
    return {
        "ChannelName": CODE_CHANNEL,
        "DataSource": {"S3DataSource": {"S3Uri": uri, **_S3_SOURCE}},
    }


def hyperparameter_text(value: Any) -> Any:
    """A hyperparameter as SageMaker takes it: text (a param: its value as text, by a
    one-value ``Std:Join``, as the SDK writes a pipeline variable)."""
    name = param_of(value)
    if name is not None:
        return join([param_ref(name)])
    if isinstance(value, str):
        return value
    return json.dumps(ir.thaw(value), separators=(",", ":"), sort_keys=True)


def hyperparameters(ctx: Context, step: ir.Step) -> dict[str, Any]:
    """The step's ``hyperparameters:`` as text; the container reads them from
    ``/opt/ml/input/config/hyperparameters.json``."""
    given = step.details.get("hyperparameters") or {}
    found = {str(name): hyperparameter_text(value) for name, value in given.items()}
    for name, text in found.items():
        if isinstance(text, str) and len(text) > MAX_HYPERPARAMETER:
            ctx.error(step, f"hyperparameter '{name}' is over {MAX_HYPERPARAMETER} characters")
    return found


def machine(ctx: Context, step: ir.Step) -> tuple[Any, Any]:
    """(instance type, instance count): ``targets.sagemaker`` on the step (a value, or a
    run-time param's ``Get``), else from its resources, else the default."""
    try:
        kind = instance_type(step, ctx.instance_type)
    except InstanceError as exc:
        ctx.error(step, str(exc))
        kind = ctx.instance_type
    return kind, instance_count(step)


def training_step(ctx: Context, step: ir.Step) -> list[dict[str, Any]]:
    """The step's entry: a TrainingStep whose model the later steps read."""
    for out in step.outputs:
        if out.name != "model":
            ctx.error(
                step,
                f"output '{out.name}': a SageMaker training job keeps only its model "
                "(/opt/ml/model); write other results as a container step's outputs",
            )
    image = step.target_images.get("sagemaker") or step.image
    launch = Launch()
    inputs = channels(ctx, step, launch)
    entry, arguments, environment, code = launch.start(
        ctx, step, TrainingResolver(ctx), image, CODE_DIR
    )
    if code:
        if any(c["ChannelName"] == CODE_CHANNEL for c in inputs):
            ctx.error(step, f"input '{CODE_CHANNEL}' is the channel pipespec gives the code")
        inputs.append(code_channel(ctx.code_folder(code, step.id)))
    algorithm: dict[str, Any] = {
        "TrainingImage": image,
        "TrainingInputMode": "File",
        "ContainerEntrypoint": entry,
    }
    if arguments:
        algorithm["ContainerArguments"] = arguments
    instance_type, count = machine(ctx, step)
    output: dict[str, Any] = {"S3OutputPath": ctx.run_uri(step.id, "model")}
    if ctx.options.kms_key:
        output["KmsKeyId"] = ctx.options.kms_key
    request: dict[str, Any] = {
        "AlgorithmSpecification": algorithm,
        "OutputDataConfig": output,
        "StoppingCondition": stopping_condition(step),
        "ResourceConfig": {
            "InstanceCount": count,
            "InstanceType": instance_type,
            "VolumeSizeInGB": VOLUME_GB,
        },
        "RoleArn": ctx.role_arn,
        **spot_members(ctx, step),
    }
    if inputs:
        request["InputDataConfig"] = inputs
    given = hyperparameters(ctx, step)
    if given:
        request["HyperParameters"] = given
    if environment:
        request["Environment"] = environment
    model = get(f"Steps.{step.id}.ModelArtifacts.S3ModelArtifacts")
    for out in step.outputs:
        ctx.refs[(step.id, out.name)] = Ref(model, packed=True)
    ctx.exits[step.id] = [step.id]
    return [{"Name": step.id, "Type": "Training", "Arguments": request}]
