"""A container or script step as a SageMaker ProcessingStep (CreateProcessingJob), in the
form the sagemaker SDK writes it: inputs and outputs on S3 under local paths of the job's
container, the script as a code input, values as ``Get``/``Std:Join`` references.

Paths in the container follow SageMaker's convention: an input ``x`` at
``/opt/ml/processing/input/x``, an output ``y`` at ``/opt/ml/processing/output/y``; a
value output (metrics, dict, ...) is the file ``<y>.json`` there, which a later step or a
condition reads as the step's PropertyFile ``y``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from pipespec import ir
from pipespec.backends.placeholders import Resolver, walk
from pipespec.backends.sagemaker.parameters import get, join, param_ref

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


@dataclass
class Context:
    """What building one step needs from the pipeline and the options."""

    pipeline: ir.Pipeline
    bucket: str
    prefix: str
    role_arn: str
    instance_type: str
    uploads: dict[str, str] = field(default_factory=dict)  # S3 URI -> code file's text
    errors: list[tuple[ir.Step, str]] = field(default_factory=list)


def output_uri(step_id: str, output: str) -> dict[str, Any]:
    """Where another step finds a Processing step's output (the SDK's property path)."""
    return get(f"Steps.{step_id}.ProcessingOutputConfig.Outputs['{output}'].S3Output.S3Uri")


def code_uri(ctx: Context, name: str, text: str) -> str:
    """The script's S3 URI, keyed by its content so an unchanged script keeps its key
    (SageMaker's step cache compares arguments): ``<prefix>/code/<sha256>/<file>``."""
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    file = name.rsplit("/", 1)[-1].replace("pipespec:", "") or "step"
    if not file.endswith(".py"):
        file += ".py"
    uri = f"s3://{ctx.bucket}/{ctx.prefix}/code/{digest}/{file}"
    ctx.uploads[uri] = text
    return uri


class _Resolver(Resolver[Any]):
    """How a Processing step spells each ``${...}``: a local path or a reference."""

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
        return f"{INPUT_ROOT}/{inp.name}/{source.output}.json"

    def input_one_of(self, step: ir.Step, inp: ir.Input, source: ir.OneOf) -> Any:
        self.ctx.errors.append((step, f"input '{inp.name}' is one_of: SageMaker runs no join"))
        return ""

    def output(self, step: ir.Step, output: ir.Output) -> Any:
        if output.is_parameter:
            return f"{OUTPUT_ROOT}/{output.name}/{output.name}.json"
        return f"{OUTPUT_ROOT}/{output.name}"

    def item(self, step: ir.Step) -> Any:
        self.ctx.errors.append((step, "foreach is unrolled before steps are built"))
        return ""

    def hyperparameter(self, step: ir.Step, name: str) -> Any:
        self.ctx.errors.append((step, "a Processing step has no trials"))
        return ""


def _argv(ctx: Context, step: ir.Step) -> list[Any]:
    resolver = _Resolver(ctx)
    values = step.args if step.script is not None else step.command
    return [join(walk(step, value, resolver)) for value in values]


def _inputs(ctx: Context, step: ir.Step) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for inp in step.inputs:
        source = inp.source
        if isinstance(source, ir.ArtifactRef):
            uri: Any = output_uri(source.step, source.output)
        elif isinstance(source, ir.LiteralUri):
            uri = source.uri
        else:
            continue  # params travel as arguments
        s3 = {"S3Uri": uri, "LocalPath": f"{INPUT_ROOT}/{inp.name}", **_S3_INPUT}
        found.append({"InputName": inp.name, "AppManaged": False, "S3Input": s3})
    return found


def _outputs(ctx: Context, step: ir.Step) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for out in step.outputs:
        # Under the run's execution id, as the SDK's default output path is.
        where: list[Any] = [f"s3://{ctx.bucket}", ctx.prefix, ctx.pipeline.name]
        where += [get("Execution.PipelineExecutionId"), step.id, out.name]
        s3 = {"S3Uri": join(where, "/"), "LocalPath": f"{OUTPUT_ROOT}/{out.name}"}
        s3["S3UploadMode"] = "EndOfJob"
        found.append({"OutputName": out.name, "AppManaged": False, "S3Output": s3})
    return found


def processing_step(ctx: Context, step: ir.Step) -> dict[str, Any]:
    """The step's entry in the definition's ``Steps``."""
    argv = _argv(ctx, step)
    inputs = _inputs(ctx, step)
    if step.script is not None:
        uri = code_uri(ctx, step.script.name, step.script.source)
        entry = ["python3", f"{CODE_DIR}/{uri.rsplit('/', 1)[-1]}"]
        s3 = {"S3Uri": uri, "LocalPath": CODE_DIR, **_S3_INPUT}
        inputs.append({"InputName": "code", "AppManaged": False, "S3Input": s3})
    else:
        entry, argv = argv[:1], argv[1:]
    app: dict[str, Any] = {"ImageUri": step.image, "ContainerEntrypoint": entry}
    if argv:
        app["ContainerArguments"] = argv
    arguments: dict[str, Any] = {
        "ProcessingResources": {
            "ClusterConfig": {
                "InstanceType": ctx.instance_type,
                "InstanceCount": 1,
                "VolumeSizeInGB": VOLUME_GB,
            }
        },
        "AppSpecification": app,
        "RoleArn": ctx.role_arn,
    }
    if inputs:
        arguments["ProcessingInputs"] = inputs
    outputs = _outputs(ctx, step)
    if outputs:
        arguments["ProcessingOutputConfig"] = {"Outputs": outputs}
    env = {name: join(walk(step, value, _Resolver(ctx))) for name, value in step.env}
    if env:
        arguments["Environment"] = env
    if step.timeout_s is not None:
        arguments["StoppingCondition"] = {"MaxRuntimeInSeconds": step.timeout_s}
    entry_step: dict[str, Any] = {"Name": step.id, "Type": "Processing", "Arguments": arguments}
    files = [
        {"PropertyFileName": o.name, "OutputName": o.name, "FilePath": f"{o.name}.json"}
        for o in step.outputs
        if o.is_parameter
    ]
    if files:
        entry_step["PropertyFiles"] = files
    return entry_step
