"""A model's steps on SageMaker: ``register`` as a RegisterModel entry (CreateModelPackage),
and what ``deploy`` and ``batch_predict`` (``serving.py``) share: the serving image, the
model data, a Model entry (CreateModel). ``monitor_note`` says why ``monitor`` is a
Processing step.

The model a step uses is its ``model`` input. A SageMaker training job's model is a
``model.tar.gz`` (the Ref is ``packed``): exactly what ``ModelDataUrl`` takes. A model
another kind of step wrote is a folder of files: it is served uncompressed, through
``ModelDataSource`` (S3Prefix, CompressionType None), which AWS documents for real-time
endpoints (PS606: a container that expects a tar.gz, or batch transform, may not take it).

The serving image is the step's own, else the one of the step its model came from (the
spec's ``serving_image`` is written once, where the model is made), else none: the step
cannot be built (the catalog's SageMaker inference images reach a step through
``serving_images["sagemaker"]``). A catalog framework image serving a model of the
standard train script runs pipespec's inference handler (``handler.py``): its variables
join the container's ``Environment``.
"""

from __future__ import annotations

import re
from typing import Any

from pipespec import ir
from pipespec.backends.sagemaker.context import Context, Ref
from pipespec.backends.sagemaker.handler import handler_environment
from pipespec.backends.sagemaker.images import ECR_RE
from pipespec.backends.sagemaker.parameters import get, join, param_ref

APPROVAL = {"pending": "PendingManualApproval", "approved": "Approved", "rejected": "Rejected"}
CSV = "text/csv"
# CreateModelPackage's ModelPackageGroupName (botocore ArnOrName) without the ARN form.
GROUP_RE = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")
# CustomerMetadataProperties: at most 50, keys up to 128 and values up to 256 characters of
# letters, digits, spaces and ``_.:/=+-@`` (botocore's CustomerMetadataKey/Value).
METADATA_MAX = 50
_METADATA_PUNCTUATION = frozenset("_.:/=+-@")
# SageMaker's framework inference images: they serve a model only through an inference
# script (SAGEMAKER_PROGRAM), which pipespec adds for its standard script's models only.
FRAMEWORK_SERVING_RE = re.compile(
    r"/(sagemaker-scikit-learn|sagemaker-xgboost|pytorch-inference|tensorflow-inference"
    r"|huggingface-[a-z0-9-]*inference)[:@]"
)


def _producer(ctx: Context, step: ir.Step) -> ir.Step | None:
    """The step the ``model`` input comes from, when it comes from a step."""
    inp = step.input("model")
    if inp is None or not isinstance(inp.source, ir.ArtifactRef):
        return None
    return next((s for s in ctx.pipeline.steps if s.id == inp.source.step), None)


def serving_image(ctx: Context, step: ir.Step) -> str | None:
    """The image that serves the step's model: the step's own, else its model's maker's
    (through a chain of registers), else None."""
    seen: set[str] = set()
    current: ir.Step | None = step
    while current is not None and current.id not in seen:
        seen.add(current.id)
        found = current.serving_images.get("sagemaker") or current.details.get("serving_image")
        if isinstance(found, str):
            return found
        current = _producer(ctx, current)
    return None


def image_or_error(ctx: Context, step: ir.Step) -> str | None:
    image = serving_image(ctx, step)
    if image is None:
        ctx.error(
            step,
            f"step '{step.id}' has no serving image for SageMaker: set serving_image on it "
            "(or on the step that makes its model) to an inference image in Amazon ECR",
        )
    elif not ECR_RE.match(image):
        ctx.warn(
            step,
            f"SageMaker pulls a model's image from Amazon ECR: copy {image} to a repository "
            "in the pipeline's account and region and name that one in serving_image",
        )
    elif FRAMEWORK_SERVING_RE.search(image) and "sagemaker" not in step.serving_code:
        ctx.warn(
            step,
            f"{image} serves a model through an inference script, which pipespec writes only "
            "for models of its standard train script: this model (from your own command) "
            "needs a serving_image that serves it as your command saved it",
        )
    return image


def model_data(ctx: Context, step: ir.Step) -> dict[str, Any] | None:
    """The container's model: ``ModelDataUrl`` for a ``model.tar.gz``, ``ModelDataSource``
    for a folder. None (and an error) when the step has no usable model input."""
    inp = step.input("model")
    source = inp.source if inp is not None else None
    if isinstance(source, ir.ArtifactRef):
        ref: Ref = ctx.ref(source.step, source.output)
    elif isinstance(source, ir.LiteralUri):
        ref = Ref(source.uri, packed=source.uri.endswith(".tar.gz"))
    elif isinstance(source, ir.ParamRef):
        ref = Ref(param_ref(source.name), packed=True)  # a run's value names a model.tar.gz
    else:
        ctx.error(step, f"step '{step.id}' needs a `model` input from one step or a URI")
        return None
    if ref.packed:
        return {"ModelDataUrl": ref.uri}
    ctx.warn(
        step,
        "the model is a folder, not a SageMaker model.tar.gz: it is served uncompressed "
        "(ModelDataSource S3Prefix), as AWS documents for endpoints; a container that "
        "expects model.tar.gz, or a batch transform, may not accept it",
    )
    uri = ref.uri
    if not (isinstance(uri, str) and uri.endswith("/")):
        uri = join([uri, "/"])  # a prefix ends with a slash (S3ModelDataSource.S3Uri)
    s3 = {"S3Uri": uri, "S3DataType": "S3Prefix", "CompressionType": "None"}
    return {"ModelDataSource": {"S3DataSource": s3}}


def environment(ctx: Context, step: ir.Step) -> dict[str, Any]:
    """The step's env for the serving container: text and params only (a file of another
    step or a local path means nothing to an endpoint)."""
    found: dict[str, Any] = {}
    for name, segments in step.env:
        values: list[Any] = []
        for seg in segments:
            if isinstance(seg, ir.Text):
                values.append(seg.text)
            elif seg.root == "params":
                values.append(param_ref(str(seg.name)))
            else:
                ctx.error(step, f"env {name}: a serving container's env holds text and params")
                break
        else:
            found[name] = join(values)
    return found


def tags(ctx: Context) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in sorted(ctx.options.tags.items())]


def model_entry(ctx: Context, step: ir.Step, name: str) -> dict[str, Any] | None:
    """A Model entry (CreateModel) for the step's model in its serving image."""
    image = image_or_error(ctx, step)
    data = model_data(ctx, step)
    if image is None or data is None:
        return None
    # The handler's variables after the step's own, as the SDK's framework models write them.
    env = {**environment(ctx, step), **handler_environment(ctx, step)}
    container = {"Image": image, **data, "Environment": env}
    arguments: dict[str, Any] = {"ExecutionRoleArn": ctx.role_arn, "PrimaryContainer": container}
    if ctx.options.tags:
        arguments["Tags"] = tags(ctx)
    return {"Name": name, "Type": "Model", "Arguments": arguments}


def _metrics_uri(ctx: Context, step: ir.Step) -> Any:
    """The S3 URI of the JSON file a ``metrics`` input reads, or None."""
    inp = next((i for i in step.inputs if i.type == "metrics"), None)
    source = inp.source if inp is not None else None
    if isinstance(source, ir.ArtifactRef):
        # A value output is the file <output>.json in the output's folder.
        return join([ctx.ref(source.step, source.output).uri, f"/{source.output}.json"])
    if isinstance(source, ir.LiteralUri):
        return source.uri
    return param_ref(source.name) if isinstance(source, ir.ParamRef) else None


def _metadata(ctx: Context, step: ir.Step, values: ir.FrozenMap | None) -> dict[str, str]:
    found = {str(k): str(v) for k, v in (values or {}).items()}
    bad = [
        text
        for pair in found.items()
        for text in pair
        if not all(c.isalnum() or c.isspace() or c in _METADATA_PUNCTUATION for c in text)
    ]
    if bad or len(found) > METADATA_MAX:
        ctx.error(
            step,
            f"tags: SageMaker takes at most {METADATA_MAX} on a model version, of letters, "
            "digits, spaces and _.:/=+-@ only; rewrite "
            + (", ".join(repr(b) for b in bad) or "the list"),
        )
    return found


def register_steps(ctx: Context, step: ir.Step) -> list[dict[str, Any]]:
    """A RegisterModel entry: a new version in the model package group ``model_group``."""
    details = step.details
    assert isinstance(details, ir.RegisterDetails)
    if not GROUP_RE.match(details.model_group):
        ctx.error(
            step,
            f"model_group {details.model_group!r} is no SageMaker model package group name: "
            "use up to 63 letters, digits and inner hyphens",
        )
    if details.parent_model is not None:
        ctx.warn(step, "parent_model is not used: the model package group is the model")
    image = image_or_error(ctx, step)
    data = model_data(ctx, step)
    container: dict[str, Any] = {"Image": image or "", **(data or {})}
    handler = handler_environment(ctx, step)
    if handler:  # the version serves as the SDK's framework model registers it
        container["Environment"] = handler
    arguments: dict[str, Any] = {
        "ModelPackageGroupName": details.model_group,
        "ModelApprovalStatus": APPROVAL[details.approval],
        "InferenceSpecification": {
            "Containers": [container],
            "SupportedContentTypes": [CSV],
            "SupportedResponseMIMETypes": [CSV],
        },
    }
    metrics = _metrics_uri(ctx, step)
    if metrics is not None:
        statistics = {"ContentType": "application/json", "S3Uri": metrics}
        arguments["ModelMetrics"] = {"ModelQuality": {"Statistics": statistics}}
    metadata = _metadata(ctx, step, details.tags)
    if metadata:
        arguments["CustomerMetadataProperties"] = metadata
    if step.description:
        arguments["ModelPackageDescription"] = step.description
    if ctx.options.tags:
        arguments["Tags"] = tags(ctx)
    for out in step.outputs:  # model_version: the new version's ARN
        ctx.refs[(step.id, out.name)] = Ref(get(f"Steps.{step.id}.ModelPackageArn"))
    ctx.exits[step.id] = [step.id]
    return [{"Name": step.id, "Type": "RegisterModel", "Arguments": arguments}]


def monitor_note(step: ir.Step) -> str:
    """Why a ``monitor`` step runs its own command (PS606)."""
    details = step.details
    monitor = details if isinstance(details, ir.MonitorDetails) else ir.MonitorDetails()
    what = f"{monitor.drift.metric} drift" if monitor.drift else "drift"
    note = (
        f"monitor runs its command as a processing job: no SageMaker pipeline step computes "
        f"{what} with the spec's threshold (QualityCheckStep runs Model Monitor's analyzer: "
        "a dataset's statistics and constraints checked against a baseline's, its "
        "distribution check a distance, LInfinity or ChiSquared for categorical columns; or "
        "model quality against ground truth. ClarifyCheckStep checks bias and explainability)"
    )
    if monitor.schedule is not None:
        note += "; it runs once per pipeline run, not on its own schedule"
    return note
