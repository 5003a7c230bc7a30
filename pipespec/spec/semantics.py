"""What each step kind means to the graph: its outputs and the inputs it expects.

Outputs: when a step declares none, its kind's defaults apply (a transform writes `data`).
Some kinds always produce an output whatever the step declares (a train step's `model`).
Inputs: some kinds give meaning to certain input names (a deploy's `model` must be a model).
"""

from __future__ import annotations

from pipespec.spec import models

DEFAULT_OUTPUTS: dict[str, dict[str, str]] = {
    "ingest": {"data": "dataset"},
    "transform": {"data": "dataset"},
    "train": {},
    "tune": {},
    "evaluate": {},
    "deploy": {},
    "monitor": {},
    "container": {},
    "fail": {},
    "register": {},
    "batch_predict": {},
}

INTRINSIC_OUTPUTS: dict[str, dict[str, str]] = {
    "ingest": {},
    "transform": {},
    "train": {"model": "model"},
    # A tune step's model and metrics are its best trial's; best_hyperparameters that
    # trial's values, written by the target's best-trial pick (TARGET_WRITTEN_OUTPUTS).
    "tune": {"model": "model", "metrics": "metrics", "best_hyperparameters": "dict"},
    "evaluate": {"metrics": "metrics"},
    "deploy": {"endpoint": "string"},
    # A drift check's report folder (drift.json, drift.md) and its verdict as values a
    # `when:` can read (`monitor.metrics.drifted == 1`).
    "monitor": {"report": "artifact", "metrics": "metrics"},
    "container": {},
    "fail": {},
    # The registry's name for the new version (an MLflow `models:/<group>/<version>` URI,
    # a SageMaker model package ARN, a Vertex model resource name).
    "register": {"model_version": "string"},
    "batch_predict": {"predictions": "dataset"},
}

# Outputs the target writes, not the step's command: nothing to name as ${outputs.X}.
TARGET_WRITTEN_OUTPUTS: dict[str, frozenset[str]] = {"tune": frozenset({"best_hyperparameters"})}

INPUT_ROLES: dict[str, dict[str, str]] = {
    "train": {"train": "dataset", "validation": "dataset", "test": "dataset", "model": "model"},
    "tune": {"train": "dataset", "validation": "dataset", "test": "dataset"},
    "evaluate": {"model": "model", "test": "dataset", "data": "dataset"},
    "deploy": {"model": "model"},
    # `current` (or `data`) is the data checked against `baseline`; `log` a folder of
    # logged prediction requests (JSON Lines) to check instead.
    "monitor": {
        "baseline": "dataset",
        "current": "dataset",
        "data": "dataset",
        "log": "artifact",
        "model": "model",
    },
    "register": {"model": "model", "metrics": "metrics"},
    "batch_predict": {"model": "model", "data": "dataset"},
}

REQUIRED_INPUTS: dict[str, tuple[str, ...]] = {
    "evaluate": ("model",),
    "deploy": ("model",),
    "register": ("model",),
    "batch_predict": ("model", "data"),
}


def effective_outputs(step: models.StepBase) -> dict[str, str]:
    kind = step_kind(step)
    # A declared dataset output (`{type: dataset, columns: ...}`) is a dataset to the graph.
    declared = {name: models.output_type(value) for name, value in (step.outputs or {}).items()}
    if step.outputs is None:
        declared.update(DEFAULT_OUTPUTS[kind])
    for name, type_name in INTRINSIC_OUTPUTS[kind].items():
        declared.setdefault(name, type_name)
    return declared


def step_kind(step: models.StepBase) -> str:
    kind = getattr(step, "kind", None)
    assert isinstance(kind, str)
    return kind


def is_artifact(type_name: str) -> bool:
    return type_name in models.ARTIFACT_TYPES
