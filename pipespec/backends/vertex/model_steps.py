"""register, deploy and batch_predict steps as Vertex services (see models.py), and
when a model step stays a container task instead."""

from __future__ import annotations

import json
import re
from typing import Any

from pipespec import ir
from pipespec.backends.kfp_ir.state import Build
from pipespec.backends.kfp_ir.steps import PLACEHOLDER_START
from pipespec.backends.kfp_ir.wiring import Channel
from pipespec.backends.vertex import gcpc
from pipespec.backends.vertex.machines import ENDPOINT_SIZES, MachineError, accelerator_type
from pipespec.backends.vertex.models import (
    BATCH_OUTPUT,
    INSTANCES_FORMAT,
    MODEL_NAME_RE,
    PREDICTIONS_FORMAT,
    VERTEX_ENDPOINT,
    VERTEX_MODEL,
    ModelTasks,
    artifact_type,
)
from pipespec.backends.vertex.options import (
    LABEL_KEY_RE,
    LABEL_VALUE_RE,
    MACHINE_TYPE_RE,
    VertexOptions,
)

MODEL_KINDS = ("register", "deploy", "batch_predict")


def native_model_step(options: VertexOptions, step: ir.Step) -> bool:
    """Whether a model step becomes Vertex's services: its kind is not listed in
    ``targets.vertex.container_kinds`` and a serving image is known for its model."""
    return (
        step.kind in MODEL_KINDS
        and step.kind not in options.container_kinds
        and "vertex" in step.serving_images
    )


def _serving(step: ir.Step) -> str:
    return str(step.serving_images["vertex"])


def _labels(build: Build, step: ir.Step, values: dict[str, str]) -> dict[str, str] | None:
    """Tags as Vertex labels, whose rules are stricter than a tag's: an error if not."""
    for key, value in values.items():
        if not re.match(LABEL_KEY_RE, key) or not re.match(LABEL_VALUE_RE, value):
            build.error(
                step,
                f"step '{step.id}': tag {key}={value!r} is not a Vertex label (lowercase "
                "letters, digits, _ and -; keys start with a letter; at most 63 characters)",
                "change the tag, or list register in targets.vertex.container_kinds",
            )
            return None
    return values


def payload_text(build: Build, step: ir.Step, field: str, text: str) -> str | None:
    """Spec text for a STRING input that GCPC's launcher splices into its JSON payload
    between quotes, unescaped (ModelUploadOp's description, ModelBatchPredictOp's
    key_field): passed as the body of a JSON string, so the payload the launcher parses
    holds exactly the spec's text whatever its quotes, backslashes or control characters.
    Text with ``{{$`` is refused: Vertex would substitute it as a placeholder."""
    if PLACEHOLDER_START in text:
        build.error(
            step,
            f"step '{step.id}': {field} {text!r} contains '{{{{$', which Vertex reads as a "
            "placeholder in a Google Cloud Pipeline Component's request",
            f"write {field} without '{{{{$'",
        )
        return None
    return json.dumps(text, ensure_ascii=False)[1:-1]


def register_step(build: Build, step: ir.Step) -> None:
    details = step.details
    assert isinstance(details, ir.RegisterDetails)
    tasks = ModelTasks(build, step)
    model = tasks.model_task(_serving(step))
    tags = {str(k): str(v) for k, v in (details.tags or {}).items()}
    labels = _labels(build, step, {**tags, "pipespec-approval": details.approval})
    parent = None
    if details.parent_model is not None:
        if not MODEL_NAME_RE.match(details.parent_model):
            build.error(
                step,
                f"step '{step.id}': parent_model {details.parent_model!r} is not a Vertex "
                "model name",
                "write projects/PROJECT/locations/LOCATION/models/MODEL_ID",
            )
            return
        parent = tasks.importer("parent", details.parent_model, VERTEX_MODEL)
    extra: dict[str, Any] = {"labels": labels or {}}
    if step.description:
        description = payload_text(build, step, "description", step.description)
        if description is None:
            return
        extra["description"] = description
    tasks.upload(tasks.place.task, model, details.model_group, extra, parent)


def _endpoint_machine(build: Build, step: ir.Step, size: str) -> str | None:
    machine = ENDPOINT_SIZES.get(size, size)
    if not re.match(MACHINE_TYPE_RE, machine) or "." in machine:
        build.error(
            step,
            f"step '{step.id}': endpoint instance_type {size!r} is not a Vertex machine type",
            f"write one of {', '.join(ENDPOINT_SIZES)} or a machine type such as n1-standard-4",
        )
        return None
    return machine


def deploy_step(build: Build, step: ir.Step) -> None:
    details = step.details
    assert isinstance(details, ir.DeployDetails) and details.endpoint is not None
    endpoint = details.endpoint
    tasks = ModelTasks(build, step)
    machine = _endpoint_machine(build, step, endpoint.instance_type)
    try:
        gpu = accelerator_type(step.resources)
    except MachineError as exc:
        build.error(step, f"step '{step.id}': {exc}")
        return
    if machine is None:
        return
    model = tasks.model_task(_serving(step))
    upload = tasks.name("upload")
    tasks.upload(upload, model, endpoint.name)
    existing = tasks.options.endpoints.get(endpoint.name)
    if existing is not None:
        made = tasks.importer("endpoint", existing, VERTEX_ENDPOINT)
        endpoint_channel = Channel(artifact_type(VERTEX_ENDPOINT), task=made, key="artifact")
    else:
        made = tasks.name("endpoint")
        created = {"display_name": endpoint.name, "location": tasks.options.location}
        if tasks.options.project:
            created["project"] = tasks.options.project
        tasks.gcpc_task(made, gcpc.ENDPOINT_CREATE, created, {})
        endpoint_channel = Channel(artifact_type(VERTEX_ENDPOINT), task=made, key="endpoint")
    constants: dict[str, Any] = {
        "dedicated_resources_machine_type": machine,
        "dedicated_resources_min_replica_count": max(endpoint.min_replicas, 1),
        "dedicated_resources_max_replica_count": endpoint.max_replicas,
        "traffic_split": {"0": 100},
    }
    if gpu is not None:
        constants["dedicated_resources_accelerator_type"] = gpu
        constants["dedicated_resources_accelerator_count"] = step.resources.gpu or 1
    account = tasks.options.account_for(step.service_account)
    if account:
        constants["service_account"] = account
    channels = {
        "endpoint": endpoint_channel,
        "model": Channel(artifact_type(VERTEX_MODEL), task=upload, key="model"),
    }
    tasks.gcpc_task(tasks.place.task, gcpc.MODEL_DEPLOY, constants, channels)


def batch_predict_step(build: Build, step: ir.Step) -> None:
    details = step.details
    assert isinstance(details, ir.BatchPredictDetails)
    keep = list(details.keep_columns or ())
    if len(keep) > 1:
        build.error(
            step,
            f"step '{step.id}': Vertex batch prediction keeps one input column beside "
            f"each prediction (its key field); keep_columns has {len(keep)}",
            "keep one column, or list batch_predict in targets.vertex.container_kinds",
        )
        return
    key = payload_text(build, step, "keep_columns", keep[0]) if keep else None
    if keep and key is None:
        return
    tasks = ModelTasks(build, step)
    model = tasks.model_task(_serving(step), uris=("data",))
    upload = tasks.name("upload")
    tasks.upload(upload, model, tasks.place.task)
    options = tasks.options
    constants: dict[str, Any] = {
        "gcs_destination_output_uri_prefix": BATCH_OUTPUT,
        "instances_format": INSTANCES_FORMAT,
        "job_display_name": tasks.place.task,
        "location": options.location,
        "machine_type": options.machine_type,
        "predictions_format": PREDICTIONS_FORMAT,
    }
    if options.project:
        constants["project"] = options.project
    if key is not None:
        constants["key_field"] = key
    channels = {
        "gcs_source_uris": Channel({"parameterType": "LIST"}, task=model, key="data_uris"),
        "model": Channel(artifact_type(VERTEX_MODEL), task=upload, key="model"),
    }
    tasks.gcpc_task(tasks.place.task, gcpc.BATCH_PREDICT, constants, channels)
    tasks.place.channels["predictions"] = Channel(
        artifact_type("system.Artifact"), task=tasks.place.task, key="gcs_output_directory"
    )
