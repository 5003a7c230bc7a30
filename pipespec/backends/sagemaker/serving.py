"""``deploy`` and ``batch_predict`` on SageMaker: each a Model entry (CreateModel, see
``models.py``) and what serves it.

- deploy: ``<id>-model``, ``<id>-config`` (EndpointConfig: one production variant) and
  ``<id>`` (Endpoint), the step types sagemaker 2.257.6's EndpointConfigStep and
  EndpointStep write. The endpoint keeps its name from run to run (the service creates it,
  or updates it to the new config); a config's name must be new each time, so it carries
  the execution id. ``max_replicas`` is autoscaling, which SageMaker does outside the
  pipeline (Application Auto Scaling): PS606.
- batch_predict: ``<id>-model`` and ``<id>`` (Transform, CreateTransformJob) over the
  ``data`` input's files as CSV lines, predictions in the run's ``predictions`` folder.
  ``keep_columns``: a transform joins whole input lines to their predictions
  (DataProcessing JoinSource Input) and its filters select columns by position, not name,
  so every input column is kept (PS606).
"""

from __future__ import annotations

import re
from typing import Any

from pipespec import ir
from pipespec.backends.sagemaker.context import Context, Ref
from pipespec.backends.sagemaker.instances import InstanceError, instance_count, instance_type
from pipespec.backends.sagemaker.models import CSV, model_entry, tags
from pipespec.backends.sagemaker.parameters import get, join

# The spec's endpoint sizes as general purpose instances (4x each step, as on Vertex).
ENDPOINT_SIZES = {
    "small": "ml.m5.large",
    "medium": "ml.m5.xlarge",
    "large": "ml.m5.2xlarge",
    "xlarge": "ml.m5.4xlarge",
}
INSTANCE_RE = re.compile(r"^ml\.[a-z0-9-]+\.[a-z0-9]+$")
# EndpointName / EndpointConfigName (botocore): up to 63 of letters, digits, inner hyphens.
NAME_RE = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")
# A config name is "<endpoint name>-<execution id>"; the id has 12 characters.
CONFIG_PREFIX_MAX = 63 - 1 - 12


def _endpoint_instance(ctx: Context, step: ir.Step, size: str) -> str | None:
    instance = ENDPOINT_SIZES.get(size, size)
    if INSTANCE_RE.match(instance):
        return instance
    ctx.error(
        step,
        f"endpoint instance_type {size!r} is not a SageMaker instance type: write one of "
        f"{', '.join(ENDPOINT_SIZES)} or an ML instance type such as ml.m5.large",
    )
    return None


def deploy_steps(ctx: Context, step: ir.Step) -> list[dict[str, Any]]:
    """The model, its endpoint config and the endpoint."""
    details = step.details
    assert isinstance(details, ir.DeployDetails) and details.endpoint is not None
    endpoint = details.endpoint
    if not NAME_RE.match(endpoint.name):
        ctx.error(
            step,
            f"endpoint name {endpoint.name!r} is no SageMaker endpoint name: use up to 63 "
            "letters, digits and inner hyphens",
        )
    if endpoint.max_replicas > endpoint.min_replicas:
        ctx.warn(
            step,
            f"the endpoint starts with {max(endpoint.min_replicas, 1)} instance(s): scaling "
            f"up to {endpoint.max_replicas} is Application Auto Scaling on SageMaker, set up "
            "outside the pipeline",
        )
    if endpoint.min_replicas < 1:
        ctx.warn(step, "a SageMaker endpoint keeps at least one instance: min_replicas 0 is 1")
    model = model_entry(ctx, step, f"{step.id}-model")
    instance = _endpoint_instance(ctx, step, endpoint.instance_type)
    prefix = endpoint.name[:CONFIG_PREFIX_MAX].rstrip("-")
    variant = {
        "VariantName": "AllTraffic",
        "ModelName": get(f"Steps.{step.id}-model.ModelName"),
        "InitialInstanceCount": max(endpoint.min_replicas, 1),
        "InstanceType": instance or "",
        "InitialVariantWeight": 1,
    }
    config: dict[str, Any] = {
        "EndpointConfigName": join([prefix, get("Execution.PipelineExecutionId")], "-"),
        "ProductionVariants": [variant],
    }
    served: dict[str, Any] = {
        "EndpointName": endpoint.name,
        "EndpointConfigName": get(f"Steps.{step.id}-config.EndpointConfigName"),
    }
    if ctx.options.kms_key:
        config["KmsKeyId"] = ctx.options.kms_key
    if ctx.options.tags:
        config["Tags"] = served["Tags"] = tags(ctx)
    for out in step.outputs:  # endpoint: its name, read once the endpoint exists
        ctx.refs[(step.id, out.name)] = Ref(get(f"Steps.{step.id}.EndpointName"))
    ctx.exits[step.id] = [step.id]
    return [
        *([model] if model is not None else []),
        {"Name": f"{step.id}-config", "Type": "EndpointConfig", "Arguments": config},
        {"Name": step.id, "Type": "Endpoint", "Arguments": served},
    ]


def _job_instance(ctx: Context, step: ir.Step) -> tuple[Any, Any]:
    """The transform's instance type and count: the step's own (maybe a parameter), else
    from its resources."""
    try:
        return instance_type(step, ctx.instance_type), instance_count(step)
    except InstanceError as exc:
        ctx.error(step, str(exc))
        return ctx.instance_type, instance_count(step)


def _data_uri(ctx: Context, step: ir.Step) -> Any:
    inp = step.input("data")
    source = inp.source if inp is not None else None
    if isinstance(source, ir.ArtifactRef):
        return ctx.ref(source.step, source.output).uri
    if isinstance(source, ir.LiteralUri):
        return source.uri
    ctx.error(step, f"step '{step.id}' needs a `data` input from one step or a URI")
    return ""


def batch_predict_steps(ctx: Context, step: ir.Step) -> list[dict[str, Any]]:
    """The model and a transform job over the data."""
    details = step.details
    assert isinstance(details, ir.BatchPredictDetails)
    model = model_entry(ctx, step, f"{step.id}-model")
    output = step.outputs[0].name if step.outputs else "predictions"
    where = ctx.run_uri(step.id, output)
    instance_type, count = _job_instance(ctx, step)
    source = {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": _data_uri(ctx, step)}}
    arguments: dict[str, Any] = {
        "ModelName": get(f"Steps.{step.id}-model.ModelName"),
        "TransformInput": {"DataSource": source, "ContentType": CSV, "SplitType": "Line"},
        "TransformOutput": {"S3OutputPath": where, "AssembleWith": "Line", "Accept": CSV},
        "TransformResources": {"InstanceType": instance_type, "InstanceCount": count},
    }
    note = (
        "batch transform sends each line of the data files to the model's container as "
        "text/csv (a header line too) and writes its answers line by line"
    )
    if details.keep_columns:
        arguments["DataProcessing"] = {"JoinSource": "Input"}
        note += (
            "; keep_columns: each answer follows its whole input line (a transform's "
            "filters pick columns by position, not by name)"
        )
    ctx.warn(step, note)
    if step.timeout_s is not None:
        ctx.warn(step, "a transform job has no time limit of its own: timeout is not kept")
    if ctx.options.kms_key:
        arguments["TransformOutput"]["KmsKeyId"] = ctx.options.kms_key
    if ctx.options.tags:
        arguments["Tags"] = tags(ctx)
    for out in step.outputs:
        ctx.refs[(step.id, out.name)] = Ref(ctx.run_uri(step.id, out.name))
    ctx.exits[step.id] = [step.id]
    return [
        *([model] if model is not None else []),
        {"Name": step.id, "Type": "Transform", "Arguments": arguments},
    ]
