"""Which builder makes a spec step's definition entries, by kind, and the settings every
job entry shares (description, retries, cache)."""

from __future__ import annotations

from typing import Any

from pipespec import ir
from pipespec.backends.sagemaker.context import Context
from pipespec.backends.sagemaker.control import fail_step, step_settings
from pipespec.backends.sagemaker.instances import InstanceError, instance_type
from pipespec.backends.sagemaker.processing import processing_step

# What each entry type may carry besides its Arguments (AWS's schema): retries on job
# faults for the types that start a job, a cache for those whose result SageMaker keeps.
_JOBS = {"Processing", "Training", "Tuning", "Transform"}
_RETRIED = _JOBS | {"Model", "RegisterModel"}


_MODEL_KINDS = ("register", "deploy", "batch_predict")


def _own_command(step: ir.Step) -> bool:
    """Whether the step runs code of its own (not one of pipespec's standard scripts)."""
    script = step.script
    return bool(step.command) or (script is not None and not script.name.startswith("pipespec:"))


def _instance(ctx: Context, step: ir.Step) -> Any:
    try:
        return instance_type(step, ctx.instance_type)
    except InstanceError as exc:
        ctx.error(step, str(exc))
        return ctx.instance_type


def _entries(ctx: Context, step: ir.Step) -> list[dict[str, Any]]:
    from pipespec.backends.sagemaker import models, serving, training, tuning

    if step.kind == "fail":
        ctx.exits[step.id] = [step.id]
        return [fail_step(step)]
    if step.kind == "train":
        return training.training_step(ctx, step)
    if step.kind == "tune":
        return tuning.tuning_steps(ctx, step)
    if step.kind in _MODEL_KINDS and _own_command(step):
        ctx.warn(step, (
            f"{step.kind} runs as SageMaker's own steps (a model, its endpoint or "
            "transform job): the step's own command is not run on SageMaker"
        ))  # fmt: skip
    if step.kind == "register":
        return models.register_steps(ctx, step)
    if step.kind == "deploy":
        return serving.deploy_steps(ctx, step)
    if step.kind == "batch_predict":
        return serving.batch_predict_steps(ctx, step)
    if step.kind == "monitor" and _own_command(step):
        ctx.warn(step, models.monitor_note(step))
    return [processing_step(ctx, step, _instance(ctx, step))]


def _settings(step: ir.Step, kind: str) -> dict[str, Any]:
    settings = step_settings(step, job=kind in _JOBS)
    if kind not in _RETRIED:
        settings.pop("RetryPolicies", None)
    if kind not in _JOBS:
        settings.pop("CacheConfig", None)
    return settings


def build(ctx: Context, step: ir.Step) -> list[dict[str, Any]]:
    """The step's entries, in order, with its settings on each."""
    entries = _entries(ctx, step)
    for entry in entries:
        if entry["Type"] != "Fail":
            entry.update(_settings(step, entry["Type"]))
    return entries
