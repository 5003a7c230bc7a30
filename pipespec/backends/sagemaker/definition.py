"""The pipeline definition (Version 2020-12-01) as data: parameters, the run's experiment
config as the SDK writes it, and the steps with their ``DependsOn``, conditioned steps
inside ConditionSteps.

Each spec step becomes one or more entries (``steps.build``). A step under ``when:``
goes into the ``IfSteps`` of a ConditionStep ``<id>-when`` that tests its condition; the
steps whose ``else`` it is go into that step's ``ElseSteps``. Every other entry is at the
top level. A step after a conditioned step depends on it by name: SageMaker does not run a
step whose dependency did not run, as every pipespec target skips it.
"""

from __future__ import annotations

from typing import Any

from pipespec import ir
from pipespec.backends.sagemaker.conditions import conditions
from pipespec.backends.sagemaker.context import Context
from pipespec.backends.sagemaker.parameters import get, parameters
from pipespec.backends.sagemaker.steps import build
from pipespec.backends.sagemaker.unroll import unrolled

VERSION = "2020-12-01"


def _value(ctx: Context, step: ir.Step) -> Any:
    def output_value(producer: str, output: str, key: str | None) -> Any:
        try:
            return ctx.value(producer, output, key)
        except KeyError as exc:
            ctx.error(step, f"when: {step.condition_text}: {exc.args[0]}")
            return ""

    return output_value


def _condition_step(
    ctx: Context, step: ir.Step, if_steps: list[dict[str, Any]], else_steps: list[dict[str, Any]]
) -> dict[str, Any]:
    assert step.condition is not None
    tests = conditions(step.condition, _value(ctx, step))
    arguments = {"Conditions": tests, "IfSteps": if_steps, "ElseSteps": else_steps}
    return {"Name": f"{step.id}-when", "Type": "Condition", "Arguments": arguments}


def _place(
    ctx: Context, steps: list[ir.Step], built: dict[str, list[dict[str, Any]]]
) -> list[dict[str, Any]]:
    """The top-level entries, conditioned ones wrapped in their ConditionSteps."""
    else_of: dict[str, list[str]] = {}
    for step in steps:
        if step.else_of is not None:
            else_of.setdefault(step.else_of, []).append(step.id)
    found: list[dict[str, Any]] = []
    for step in steps:
        if step.else_of is not None and step.else_of in built:
            continue  # inside its if-step's ConditionStep
        if step.condition is None:
            found.extend(built[step.id])
            continue
        others = [entry for sid in else_of.get(step.id, []) for entry in built[sid]]
        found.append(_condition_step(ctx, step, built[step.id], others))
    return found


def definition(ctx: Context) -> dict[str, Any]:
    built: dict[str, list[dict[str, Any]]] = {}
    steps = unrolled(ctx)
    copy_of = {c: original for original, copies in ctx.copies.items() for c in copies}
    for step in steps:
        entries = build(ctx, step)
        depends = ctx.depends_on(step)
        if entries and depends:
            entries[0]["DependsOn"] = depends
        built[step.id] = entries
        if step.id in copy_of:  # a later step waits for every copy
            ctx.exits.setdefault(copy_of[step.id], []).extend(ctx.exits.get(step.id, []))
    return {
        "Version": VERSION,
        "Metadata": {},
        "Parameters": parameters(ctx.pipeline),
        "PipelineExperimentConfig": {
            "ExperimentName": get("Execution.PipelineName"),
            "TrialName": get("Execution.PipelineExecutionId"),
        },
        "Steps": _place(ctx, steps, built),
    }
