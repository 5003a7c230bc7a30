"""Managed spot training and checkpoints of a SageMaker training job, from the step's
``targets.sagemaker`` block (``spot``, ``max_wait``, lowered to ``max_wait_s``, and
``checkpoints``), in the form the sagemaker SDK writes them for
``Estimator(use_spot_instances=True, max_wait=..., checkpoint_s3_uri=...,
checkpoint_local_path=...)``: ``EnableManagedSpotTraining``,
``StoppingCondition.MaxWaitTimeInSeconds`` and ``CheckpointConfig``. Shared by the
TrainingStep (CreateTrainingJob) and the tuning job's TrainingJobDefinition.

* ``MaxWaitTimeInSeconds`` bounds the whole job, waiting for spot capacity included, so
  SageMaker requires it to be at least ``MaxRuntimeInSeconds``. Without ``max_wait`` it is
  ``SPOT_WAIT_FACTOR`` times the run time: a job may wait as long again as it may run.
  With ``max_wait`` and no ``timeout``, the run time is the smaller of the default (a day)
  and ``max_wait`` (the compiler checked ``max_wait`` against a written timeout: PS248).
* The checkpoints live under the run (``<prefix>/<pipeline>/<execution id>/<step>/
  checkpoints``, like the step's outputs): SageMaker restores them into
  ``/opt/ml/checkpoints`` when it restarts an interrupted spot job, and a step retried in
  the same execution (its RetryPolicies, or a retried execution) resumes from them too. A
  new execution starts afresh: a folder shared across runs would resume one run's
  training from another's state, on other data or code.
"""

from __future__ import annotations

from typing import Any

from pipespec import ir
from pipespec.backends.sagemaker.context import Context

DEFAULT_TIMEOUT_S = 86400  # the SDK's default MaxRuntimeInSeconds
SPOT_WAIT_FACTOR = 2
CHECKPOINT_DIR = "/opt/ml/checkpoints"  # SageMaker's default LocalPath, written out


def _own(step: ir.Step) -> dict[str, Any]:
    return dict(ir.thaw(step.target_overrides.get("sagemaker") or {}))


def uses_spot(step: ir.Step) -> bool:
    return bool(_own(step).get("spot"))


def stopping_condition(step: ir.Step) -> dict[str, int]:
    """The job's StoppingCondition: its run time, and the spot job's wait."""
    runtime = step.timeout_s or DEFAULT_TIMEOUT_S
    own = _own(step)
    if not own.get("spot"):
        return {"MaxRuntimeInSeconds": runtime}
    wait = own.get("max_wait_s")
    if wait is None:
        wait = SPOT_WAIT_FACTOR * runtime
    elif step.timeout_s is None:
        runtime = min(runtime, int(wait))
    return {"MaxRuntimeInSeconds": runtime, "MaxWaitTimeInSeconds": int(wait)}


def spot_members(ctx: Context, step: ir.Step) -> dict[str, Any]:
    """The request members spot and checkpoints add (none when the step asks for neither)."""
    own = _own(step)
    found: dict[str, Any] = {}
    if own.get("spot"):
        found["EnableManagedSpotTraining"] = True
    if own.get("checkpoints"):
        found["CheckpointConfig"] = {
            "S3Uri": ctx.run_uri(step.id, "checkpoints"),
            "LocalPath": CHECKPOINT_DIR,
        }
    return found
