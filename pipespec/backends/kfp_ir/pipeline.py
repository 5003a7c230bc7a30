"""The whole PipelineSpec: place every step, build its tasks (through the flavour), wire
the dependencies, and put the components, executors and root DAG together as data."""

from __future__ import annotations

from typing import Any

from pipespec import ir
from pipespec.backends.kfp_ir.flavour import Flavour, IrOptions
from pipespec.backends.kfp_ir.naming import PARAMETER_TYPES, SCHEMA_VERSION
from pipespec.backends.kfp_ir.placement import place_all
from pipespec.backends.kfp_ir.state import Build
from pipespec.backends.kfp_ir.tasks import (
    condition_trigger,
    container_task,
    fail_task,
    loop_iterator,
    tune_tasks,
)
from pipespec.backends.kfp_ir.wiring import Group

SDK_VERSION = "pipespec"


def _root_inputs(pipeline: ir.Pipeline) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for param in pipeline.params:
        spec: dict[str, Any] = {"parameterType": PARAMETER_TYPES[param.type]}
        if param.default is not None:
            spec["defaultValue"] = ir.thaw(param.default)
            spec["isOptional"] = True
        if param.enum is not None:
            # KFP's API server checks a run's value against the input's literals.
            spec["literals"] = [ir.thaw(v) for v in param.enum]
        if param.description:
            spec["description"] = param.description
        params[param.name] = spec
    return params


def _definitions(values: dict[str, dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, definition in values.items():
        section = "parameters" if "parameterType" in definition else "artifacts"
        out.setdefault(section, {})[name] = definition
    return out


def _group_component(group: Group) -> dict[str, Any]:
    dag: dict[str, Any] = {"tasks": group.tasks}
    outputs: dict[str, Any] = {}
    for name, selector in group.dag_outputs.items():
        section = "artifacts" if "artifactSelectors" in selector else "parameters"
        outputs.setdefault(section, {})[name] = selector
    if outputs:
        dag["outputs"] = outputs
    component: dict[str, Any] = {"dag": dag}
    if group.inputs:
        component["inputDefinitions"] = _definitions(group.inputs)
    if group.outputs:
        component["outputDefinitions"] = _definitions(group.outputs)
    return component


def _build_tasks(build: Build) -> None:
    for step in build.pipeline.steps:
        if not build.flavour.native_task(build, step):
            if build.flavour.runs_trial_loop(step):
                tune_tasks(build, step)
            else:
                loop_iterator(build, step)
            if step.kind == "fail":
                fail_task(build, step)
            else:
                container_task(build, step)
        condition_trigger(build, step)
    for step in build.pipeline.steps:
        consumer = build.places[step.id].task
        for dep in step.deps:
            build.wiring.order(consumer, build.outward_task(dep.source))


def build_pipeline(pipeline: ir.Pipeline, options: IrOptions, flavour: Flavour) -> Build:
    """Every task of the pipeline; the build's diagnostics say whether it can be written."""
    build = Build(pipeline, options, flavour)
    place_all(build)
    if not build.diagnostics:
        _build_tasks(build)
    return build


def pipeline_spec(build: Build) -> dict[str, Any]:
    pipeline = build.pipeline
    components = dict(build.components)
    for name, group in build.wiring.groups.items():
        components[f"comp-{name}"] = _group_component(group)
    root: dict[str, Any] = {"dag": {"tasks": build.wiring.root.tasks}}
    params = _root_inputs(pipeline)
    if params:
        root["inputDefinitions"] = {"parameters": params}
    info: dict[str, Any] = {"name": pipeline.name}
    if pipeline.description:
        info["description"] = pipeline.description
    spec: dict[str, Any] = {
        "components": components,
        "deploymentSpec": {"executors": build.executors},
        "pipelineInfo": info,
        "root": root,
        "schemaVersion": SCHEMA_VERSION,
        "sdkVersion": SDK_VERSION,
    }
    if build.options.pipeline_root is not None:
        spec["defaultPipelineRoot"] = build.options.pipeline_root
    return spec
