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
}

INTRINSIC_OUTPUTS: dict[str, dict[str, str]] = {
    "ingest": {},
    "transform": {},
    "train": {"model": "model"},
    "tune": {"model": "model", "metrics": "metrics"},
    "evaluate": {"metrics": "metrics"},
    "deploy": {"endpoint": "string"},
    "monitor": {"report": "metrics"},
    "container": {},
}

INPUT_ROLES: dict[str, dict[str, str]] = {
    "train": {"train": "dataset", "validation": "dataset", "test": "dataset", "model": "model"},
    "tune": {"train": "dataset", "validation": "dataset", "test": "dataset"},
    "evaluate": {"model": "model", "test": "dataset", "data": "dataset"},
    "deploy": {"model": "model"},
    "monitor": {"baseline": "dataset", "data": "dataset", "model": "model"},
}

REQUIRED_INPUTS: dict[str, tuple[str, ...]] = {
    "evaluate": ("model",),
    "deploy": ("model",),
}


def effective_outputs(step: models.StepBase) -> dict[str, str]:
    kind = step_kind(step)
    declared: dict[str, str] = dict(step.outputs or {}) if step.outputs is not None else {}
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
