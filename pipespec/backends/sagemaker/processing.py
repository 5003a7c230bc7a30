"""A container or script step as a SageMaker ProcessingStep (CreateProcessingJob), in the
form the sagemaker SDK writes it: inputs and outputs on S3 under local paths of the job's
container, the script as a code input, params as ``Get``/``Std:Join`` references.

Paths in the container follow SageMaker's convention: an input ``x`` at
``/opt/ml/processing/input/x``, an output ``y`` at ``/opt/ml/processing/output/y``; a
value output (metrics, dict, ...) is the file ``<y>.json`` there, which a later step or a
condition reads as the step's PropertyFile ``y``.

A value another step reported (``${inputs.x}`` of a metrics or float output) is text in
the command on every target; SageMaker passes files, not values, so such a step runs
through pipespec's values runner, which reads the files when the job starts and builds the
real argv (``launch.py``).
"""

from __future__ import annotations

from typing import Any

from pipespec import ir
from pipespec.backends.sagemaker.context import Context, Ref
from pipespec.backends.sagemaker.launch import Launch
from pipespec.backends.sagemaker.parameters import get
from pipespec.backends.sagemaker.resolver import JobResolver, mounted_inputs

INPUT_ROOT = "/opt/ml/processing/input"
OUTPUT_ROOT = "/opt/ml/processing/output"
CODE_DIR = f"{INPUT_ROOT}/code"
VOLUME_GB = 30
_S3_INPUT = {
    "S3DataType": "S3Prefix",
    "S3InputMode": "File",
    "S3DataDistributionType": "FullyReplicated",
    "S3CompressionType": "None",
}


def output_uri(step_id: str, output: str) -> dict[str, Any]:
    """Where another step finds a Processing step's output (the SDK's property path)."""
    return get(f"Steps.{step_id}.ProcessingOutputConfig.Outputs['{output}'].S3Output.S3Uri")


class ProcessingResolver(JobResolver):
    """A Processing step's placeholders: inputs under /opt/ml/processing/input, outputs
    under /opt/ml/processing/output (a value as ``<name>.json`` in its folder)."""

    what = "Processing step"

    def __init__(self, ctx: Context) -> None:
        super().__init__(ctx, INPUT_ROOT)

    def output(self, step: ir.Step, output: ir.Output) -> Any:
        if output.is_parameter:
            return f"{OUTPUT_ROOT}/{output.name}/{output.name}.json"
        return f"{OUTPUT_ROOT}/{output.name}"


def _inputs(ctx: Context, step: ir.Step, launch: Launch) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for inp, sub, ref in mounted_inputs(ctx, step):
        local = f"{INPUT_ROOT}/{inp.name}{sub}"
        if ref.packed:
            launch.unpack.append(local)
        s3 = {"S3Uri": ref.uri, "LocalPath": local, **_S3_INPUT}
        name = inp.name + sub.replace("/", "-")
        found.append({"InputName": name, "AppManaged": False, "S3Input": s3})
    return found


def _outputs(ctx: Context, step: ir.Step) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for out in step.outputs:
        s3 = {"S3Uri": ctx.run_uri(step.id, out.name), "LocalPath": f"{OUTPUT_ROOT}/{out.name}"}
        s3["S3UploadMode"] = "EndOfJob"
        found.append({"OutputName": out.name, "AppManaged": False, "S3Output": s3})
        file = (step.id, out.name) if out.is_parameter else None
        ctx.refs[(step.id, out.name)] = Ref(output_uri(step.id, out.name), file)
    return found


def _cluster(ctx: Context, step: ir.Step, instance_type: Any) -> dict[str, Any]:
    from pipespec.backends.sagemaker.instances import instance_count

    return {
        "ClusterConfig": {
            "InstanceType": instance_type,
            "InstanceCount": instance_count(step),
            "VolumeSizeInGB": VOLUME_GB,
        }
    }


def processing_step(ctx: Context, step: ir.Step, instance_type: Any) -> dict[str, Any]:
    """The step's entry in the definition's ``Steps``."""
    launch = Launch()
    inputs = _inputs(ctx, step, launch)
    # The catalog's framework image for the region (ECR), where the step has one.
    image = step.target_images.get("sagemaker") or step.image
    entry, arguments, environment, code = launch.start(
        ctx, step, ProcessingResolver(ctx), image, CODE_DIR
    )
    if code:
        s3 = {"S3Uri": ctx.code_folder(code, step.id), "LocalPath": CODE_DIR, **_S3_INPUT}
        inputs.append({"InputName": "code", "AppManaged": False, "S3Input": s3})
    app: dict[str, Any] = {"ImageUri": image, "ContainerEntrypoint": entry}
    if arguments:
        app["ContainerArguments"] = arguments
    request: dict[str, Any] = {
        "ProcessingResources": _cluster(ctx, step, instance_type),
        "AppSpecification": app,
        "RoleArn": ctx.role_arn,
    }
    if inputs:
        request["ProcessingInputs"] = inputs
    outputs = _outputs(ctx, step)
    if outputs:
        request["ProcessingOutputConfig"] = {"Outputs": outputs}
        if ctx.options.kms_key:
            request["ProcessingOutputConfig"]["KmsKeyId"] = ctx.options.kms_key
    if environment:
        request["Environment"] = environment
    if step.timeout_s is not None:
        request["StoppingCondition"] = {"MaxRuntimeInSeconds": step.timeout_s}
    ctx.exits[step.id] = [step.id]
    found: dict[str, Any] = {"Name": step.id, "Type": "Processing", "Arguments": request}
    files = [
        {"PropertyFileName": o.name, "OutputName": o.name, "FilePath": f"{o.name}.json"}
        for o in step.outputs
        if o.is_parameter
    ]
    if files:
        found["PropertyFiles"] = files
    return found
