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
from pipespec.backends.placeholders import Resolver, walk
from pipespec.backends.sagemaker.context import Context, Ref, script_file
from pipespec.backends.sagemaker.launch import Launch, ValueFile, with_requirements
from pipespec.backends.sagemaker.parameters import get, param_ref

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


def sources(ctx: Context, source: ir.ArtifactRef) -> list[tuple[str, Ref]]:
    """The producer entries behind one reference: one, or one per copy of an unrolled
    foreach step (a fan-in), as (suffix of the local folder, reference)."""
    copies = ctx.copies.get(source.step)
    if copies is None:
        return [("", ctx.ref(source.step, source.output))]
    return [(f"/{i}", ctx.ref(c, source.output)) for i, c in enumerate(copies)]


def is_direct(ref: Ref) -> bool:
    """A value output SageMaker resolves as it is (``Get Steps.<id>.ModelPackageArn``),
    rather than a JSON file in an output folder."""
    return ref.property_file is None and not isinstance(ref.uri, str) and "Get" in ref.uri


class ProcessingResolver(Resolver[Any]):
    """How a Processing step spells each ``${...}``: a local path, a reference, or a value
    file the launcher reads."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def text(self, step: ir.Step, text: str) -> Any:
        return text

    def param(self, step: ir.Step, name: str) -> Any:
        return param_ref(name)

    def input_literal(self, step: ir.Step, inp: ir.Input, source: ir.LiteralUri) -> Any:
        return f"{INPUT_ROOT}/{inp.name}"

    def input_artifact(self, step: ir.Step, inp: ir.Input, source: ir.ArtifactRef) -> Any:
        return f"{INPUT_ROOT}/{inp.name}"

    def input_parameter(self, step: ir.Step, inp: ir.Input, source: ir.ArtifactRef) -> Any:
        found = sources(self.ctx, source)
        if len(found) == 1 and is_direct(found[0][1]):
            return found[0][1].uri  # a value SageMaker resolves itself (a model package ARN)
        files = [f"{INPUT_ROOT}/{inp.name}{sub}/{source.output}.json" for sub, _ in found]
        return ValueFile(tuple(files), fan_in=source.step in self.ctx.copies)

    def input_one_of(self, step: ir.Step, inp: ir.Input, source: ir.OneOf) -> Any:
        self.ctx.error(step, f"input '{inp.name}' is one_of: it is split before steps are built")
        return ""

    def output(self, step: ir.Step, output: ir.Output) -> Any:
        if output.is_parameter:
            return f"{OUTPUT_ROOT}/{output.name}/{output.name}.json"
        return f"{OUTPUT_ROOT}/{output.name}"

    def item(self, step: ir.Step) -> Any:
        self.ctx.error(step, "foreach is unrolled before steps are built")
        return ""

    def hyperparameter(self, step: ir.Step, name: str) -> Any:
        self.ctx.error(step, "a Processing step has no trials")
        return ""


def _inputs(ctx: Context, step: ir.Step, launch: Launch) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for inp in step.inputs:
        source = inp.source
        if isinstance(source, ir.LiteralUri):
            where = [("", Ref(source.uri))]
        elif isinstance(source, ir.ArtifactRef):
            where = sources(ctx, source)
        else:
            continue  # params travel as arguments
        for sub, ref in where:
            if inp.is_parameter and is_direct(ref):
                continue  # no file: the value itself is in the command
            local = f"{INPUT_ROOT}/{inp.name}{sub}"
            if ref.packed:
                launch.unpack.append(local)
            name = inp.name + sub.replace("/", "-")
            s3 = {"S3Uri": ref.uri, "LocalPath": local, **_S3_INPUT}
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
    resolver = ProcessingResolver(ctx)
    launch = Launch()
    values = step.args if step.script is not None else step.command
    argv = [walk(step, value, resolver) for value in values]
    inputs = _inputs(ctx, step, launch)
    code: dict[str, str] = {}
    if step.script is not None:
        file = script_file(step.script.name)
        code[file] = step.script.source
        argv[:0] = [["python3"], [f"{CODE_DIR}/{file}"]]
    env = {name: walk(step, value, resolver) for name, value in step.env}
    entry, arguments, environment, extra = launch.command(ctx, step, argv, env, CODE_DIR)
    code.update(extra)
    # The catalog's framework image for the region (ECR), where the step has one.
    image = step.target_images.get("sagemaker") or step.image
    entry = with_requirements(step, image, entry, environment)
    if code:
        s3 = {"S3Uri": ctx.code_folder(code), "LocalPath": CODE_DIR, **_S3_INPUT}
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
