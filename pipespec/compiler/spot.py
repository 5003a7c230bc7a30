"""Checks of a step's SageMaker spot settings (``targets.sagemaker.spot``, ``max_wait``,
``checkpoints``) against the step they are written on.

Managed spot training is a training job's (CreateTrainingJob; a tuning job's trials): on a
step that becomes a processing, model or transform job it cannot apply, so asking for it is
an error (PS247) rather than a setting silently dropped. Checkpoints are a train step's: a
tune step's trials run the catalog's train script, which keeps none. SageMaker rejects a
job whose MaxWaitTimeInSeconds is below its MaxRuntimeInSeconds, so ``max_wait`` below the
step's timeout (after the `defaults` merge) is an error here, at its line (PS248), not
when the pipeline runs.
"""

from __future__ import annotations

from pipespec.diagnostics import Diagnostic
from pipespec.spec import models, units
from pipespec.spec.loader import NodePath, SourceMap
from pipespec.spec.semantics import step_kind

SPOT_KINDS = ("train", "tune")  # the kinds SageMaker runs as training jobs
CHECKPOINT_KINDS = ("train",)


def spot_problems(
    sid: str, step: models.StepBase, defaults: models.Defaults, smap: SourceMap
) -> list[Diagnostic]:
    """PS247 and PS248 for the step's ``targets.sagemaker`` block."""
    block = step.targets.sagemaker if step.targets else None
    if block is None:
        return []
    kind = step_kind(step)
    where: NodePath = ("steps", sid, "targets", "sagemaker")
    out: list[Diagnostic] = []
    if block.spot and kind not in SPOT_KINDS:
        out.append(
            Diagnostic(
                "PS247",
                f"step '{sid}' is a {kind} step: SageMaker runs it as a job without managed "
                "spot training",
                smap.span((*where, "spot")),
                "remove `spot:`; only train and tune steps (training jobs) can run on spot",
            )
        )
    if block.checkpoints and kind not in CHECKPOINT_KINDS:
        out.append(
            Diagnostic(
                "PS247",
                f"step '{sid}' is a {kind} step: only a train step's job keeps checkpoints",
                smap.span((*where, "checkpoints")),
                "remove `checkpoints:`; a train step's command writes them to /opt/ml/checkpoints",
            )
        )
    if block.max_wait is not None:
        out.extend(_max_wait_problems(sid, step, block, defaults, smap, where))
    return out


def _max_wait_problems(
    sid: str,
    step: models.StepBase,
    block: models.SagemakerStepTarget,
    defaults: models.Defaults,
    smap: SourceMap,
    where: NodePath,
) -> list[Diagnostic]:
    assert block.max_wait is not None
    span = smap.span((*where, "max_wait"))
    if not block.spot:
        return [
            Diagnostic(
                "PS247",
                f"step '{sid}': max_wait bounds waiting for spot capacity, and the step "
                "does not run on spot",
                span,
                "add `spot: true`, or remove `max_wait:` (`timeout:` bounds the run)",
            )
        ]
    timeout = step.timeout or defaults.timeout
    if timeout is None:
        return []
    if units.parse_duration(block.max_wait) < units.parse_duration(timeout):
        whose = "its" if step.timeout else "the default"
        return [
            Diagnostic(
                "PS248",
                f"step '{sid}': max_wait {block.max_wait} is below {whose} timeout "
                f"{timeout}: SageMaker rejects a spot job that may wait less than it may run",
                span,
                f"write `max_wait: {timeout}` or more, or remove it (the default is twice "
                "the timeout)",
            )
        ]
    return []
