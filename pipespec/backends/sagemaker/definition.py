"""The pipeline definition (Version 2020-12-01) as data: parameters, the run's experiment
config as the SDK writes it, and the steps with their ``DependsOn``.

So far container and script steps (Processing); the ML kinds' native steps come next
(issue 13). Not a registered target yet.
"""

from __future__ import annotations

from typing import Any

from pipespec import ir
from pipespec.backends.sagemaker.control import fail_step, step_settings
from pipespec.backends.sagemaker.instances import InstanceError, instance_for
from pipespec.backends.sagemaker.parameters import get, parameters
from pipespec.backends.sagemaker.processing import Context, processing_step

VERSION = "2020-12-01"


def _depends_on(step: ir.Step) -> list[str]:
    """Every step this one waits for. SageMaker infers an order from a ``Get`` too, but a
    dependency written out keeps the definition's graph the spec's DAG to a reader."""
    return [dep.source for dep in step.deps]


def _instance(ctx: Context, step: ir.Step) -> str:
    own = (step.target_overrides.get("sagemaker") or {}).get("instance_type")
    if isinstance(own, str):
        return own
    try:
        return instance_for(step.resources) or ctx.instance_type
    except InstanceError as exc:
        ctx.errors.append((step, str(exc)))
        return ctx.instance_type


def definition(ctx: Context) -> dict[str, Any]:
    steps: list[dict[str, Any]] = []
    default = ctx.instance_type
    for step in ctx.pipeline.steps:
        if step.kind == "fail":
            entry = fail_step(step)
        else:
            ctx.instance_type = _instance(ctx, step)
            entry = processing_step(ctx, step)
            ctx.instance_type = default
            entry.update(step_settings(step, job=True))
        depends = _depends_on(step)
        if depends:
            entry["DependsOn"] = depends
        steps.append(entry)
    return {
        "Version": VERSION,
        "Metadata": {},
        "Parameters": parameters(ctx.pipeline),
        "PipelineExperimentConfig": {
            "ExperimentName": get("Execution.PipelineName"),
            "TrialName": get("Execution.PipelineExecutionId"),
        },
        "Steps": steps,
    }
