"""Model steps as Vertex AI's own services, with Google Cloud Pipeline Components:

- every one first gets its model as Vertex reads one: ``<task>-model`` (pipespec's
  ``MODEL_PROGRAM``) makes a ``google.UnmanagedContainerModel`` of the step's model
  artifact with its serving image, and the URIs of the step's other inputs;
- ``register``: ``ModelUploadOp`` (a version of ``parent_model`` when given, imported as a
  ``google.VertexModel``), tags and the approval as labels;
- ``deploy``: ``ModelUploadOp``, ``EndpointCreateOp`` (or the existing endpoint named in
  ``targets.vertex.endpoints``, imported) and ``ModelDeployOp``;
- ``batch_predict``: ``ModelUploadOp`` and ``ModelBatchPredictOp`` over the data's files.
"""

from __future__ import annotations

import re
from typing import Any

from pipespec import ir
from pipespec.backends.kfp_ir.naming import ARTIFACT_SCHEMA_VERSION
from pipespec.backends.kfp_ir.state import Build
from pipespec.backends.kfp_ir.steps import Interface
from pipespec.backends.kfp_ir.tasks import register_task, task_spec
from pipespec.backends.kfp_ir.wiring import Channel
from pipespec.backends.vertex import gcpc
from pipespec.backends.vertex.options import LOCATED_RE, VertexOptions
from pipespec.backends.vertex.programs import MODEL_PROGRAM

CONTAINER_MODEL = "google.UnmanagedContainerModel"
VERTEX_MODEL = "google.VertexModel"
VERTEX_ENDPOINT = "google.VertexEndpoint"
MODEL_NAME_RE = re.compile(LOCATED_RE + r"models/[A-Za-z0-9_-]{1,128}$")
# Kinds whose outputs Vertex's services produce under their own names.
MODEL_OUTPUTS = {"register": "model_version", "deploy": "endpoint"}
PREDICTIONS_FORMAT = "jsonl"
INSTANCES_FORMAT = "csv"
BATCH_OUTPUT = "{{$.pipeline_root}}/{{$.pipeline_job_uuid}}/{{$.pipeline_task_uuid}}"


def artifact_type(schema: str) -> dict[str, Any]:
    return {"artifactType": {"schemaTitle": schema, "schemaVersion": ARTIFACT_SCHEMA_VERSION}}


def _constant(value: Any) -> dict[str, Any]:
    return {"runtimeValue": {"constant": value}}


def upstream(task: str, key: str, schema: str) -> Channel:
    """Output ``key`` (an artifact of type ``schema``) of task ``task``."""
    return Channel(artifact_type(schema), task=task, key=key)


class ModelTasks:
    """The tasks of one model step, beside its own in the step's group."""

    def __init__(self, build: Build, step: ir.Step) -> None:
        self.build, self.step = build, step
        self.place = build.places[step.id]
        self.group = self.place.home

    def name(self, suffix: str) -> str:
        """A task of the step's own, beside its main task: it waits for what the step
        waits for (an `after:` on a conditioned step gates all of the step's tasks)."""
        name = self.build.namer.take(f"{self.place.task}-{suffix}")
        self.build.wiring.add_task(self.group, name, {})
        for dep in self.step.deps:
            self.build.wiring.order(name, self.build.outward_task(dep.source))
        return name

    def gcpc_task(self, task: str, component: str, constants: dict[str, Any],
                  channels: dict[str, Channel]) -> None:  # fmt: skip
        """A GCPC component as a DSL call compiles it: constants and upstream outputs."""
        gcpc.register_gcpc(self.build, task, component)
        iface = Interface(self.build, self.group, task)
        for name, channel in channels.items():
            iface.take_channel(name, channel)
        spec = self.build.wiring.holder[task].tasks[task]
        spec.update(task_spec(self.build, task, self.step if task == self.place.task else None))
        inputs = iface.task_inputs()
        params = inputs.setdefault("parameters", {})
        for name, value in constants.items():
            params[name] = _constant(value)
        spec["inputs"] = {k: v for k, v in inputs.items() if v}
        for channel in channels.values():
            if channel.task is not None:
                self.build.wiring.order(task, channel.task)

    def model_task(self, serving_image: str, uris: tuple[str, ...] = ()) -> str:
        """``<task>-model``: the model as a container model, and ``<input>_uris`` lists."""
        task = self.name("model")
        iface = Interface(self.build, self.group, task)
        for inp in self.step.inputs:
            if inp.name == "model" or inp.name in uris:
                self._take(iface, task, inp)
        iface.give("container_model", artifact_type(CONTAINER_MODEL))
        for name in uris:
            iface.give(f"{name}_uris", {"parameterType": "LIST"})
        container = {
            "image": self.build.options.helper_image,
            "command": ["python3", "-c", MODEL_PROGRAM],
            "args": ["{{$}}"],
            "env": [{"name": "PIPESPEC_SERVING_IMAGE", "value": serving_image}],
        }
        register_task(self.build, task, None, iface, container)
        return task

    def _take(self, iface: Interface, task: str, inp: ir.Input) -> None:
        """One of the step's model or data inputs, as the helper reads it."""
        source = inp.source
        if isinstance(source, ir.ArtifactRef):
            iface.take_channel(inp.name, self.build.output_channel(source.step, source.output))
            self.build.wiring.order(task, self.build.outward_task(source.step))
        elif isinstance(source, ir.LiteralUri):
            iface.take(inp.name, {"parameterType": "STRING"}, _constant(source.uri))
        elif isinstance(source, ir.ParamRef):
            iface.take_channel(inp.name, self.build.param_channel(source.name))
        else:
            self.build.error(
                self.step,
                f"step '{self.step.id}': input '{inp.name}' is one_of, which Vertex's "
                f"{self.step.kind} services cannot take",
                f"list {self.step.kind} in targets.vertex.container_kinds",
            )

    def upload(self, task: str, model_task: str, display_name: str,
               extra: dict[str, Any] | None = None, parent: str | None = None) -> None:  # fmt: skip
        options = self.options
        constants: dict[str, Any] = {"display_name": display_name, "location": options.location}
        if options.project:
            constants["project"] = options.project
        if options.encryption_key:
            constants["encryption_spec_key_name"] = options.encryption_key
        constants.update(extra or {})
        channels = {
            "unmanaged_container_model": upstream(model_task, "container_model", CONTAINER_MODEL)
        }
        if parent is not None:
            channels["parent_model"] = upstream(parent, "artifact", VERTEX_MODEL)
        self.gcpc_task(task, gcpc.MODEL_UPLOAD, constants, channels)

    def importer(self, suffix: str, resource: str, schema: str) -> str:
        """An existing Vertex resource as an artifact (GCPC's documented way): data only."""
        task = self.name(suffix)
        self.build.components[f"comp-{task}"] = {
            "executorLabel": f"exec-{task}",
            "inputDefinitions": {"parameters": {"uri": {"parameterType": "STRING"}}},
            "outputDefinitions": {"artifacts": {"artifact": artifact_type(schema)}},
        }
        uri = f"https://{self.options.location}-aiplatform.googleapis.com/v1/{resource}"
        self.build.executors[f"exec-{task}"] = {
            "importer": {
                "artifactUri": {"constant": uri},
                "metadata": {"resourceName": resource},
                "typeSchema": {"schemaTitle": schema, "schemaVersion": ARTIFACT_SCHEMA_VERSION},
            }
        }
        spec = self.build.wiring.holder[task].tasks[task]
        spec.update(task_spec(self.build, task, None))
        spec["inputs"] = {"parameters": {"uri": _constant(uri)}}
        return task

    @property
    def options(self) -> VertexOptions:
        assert isinstance(self.build.options, VertexOptions)
        return self.build.options
