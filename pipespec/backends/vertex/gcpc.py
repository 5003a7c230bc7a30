"""Google Cloud Pipeline Components as their compiled form: each component's interface and
executor container, exactly as kfp compiles GCPC 2.22's own components.

The definitions are package data (``gcpc_components.json``), generated from the pinned
GCPC inside the conformance venv by ``tests/conformance/gcpc_snapshot.py``; a conformance
test regenerates it and fails on any difference, so they cannot drift from GCPC.
"""

from __future__ import annotations

import copy
import json
from functools import cache
from importlib import resources
from typing import Any

from pipespec.backends.kfp_ir.state import Build

CUSTOM_JOB = "CustomTrainingJobOp"
TUNING_JOB = "HyperparameterTuningJobRunOp"
MODEL_UPLOAD = "ModelUploadOp"
ENDPOINT_CREATE = "EndpointCreateOp"
MODEL_DEPLOY = "ModelDeployOp"
BATCH_PREDICT = "ModelBatchPredictOp"


@cache
def _snapshot() -> dict[str, Any]:
    text = resources.files(__package__).joinpath("gcpc_components.json").read_text("utf-8")
    data: dict[str, Any] = json.loads(text)
    # A pipeline's components carry no descriptions (kfp keeps them on the pipeline only).
    for spec in data["components"].values():
        for section in ("inputDefinitions", "outputDefinitions"):
            for values in spec.get(section, {}).values():
                for definition in values.values():
                    definition.pop("description", None)
    return data


def gcpc_version() -> str:
    return str(_snapshot()["gcpc_version"])


def component(name: str) -> dict[str, Any]:
    """GCPC component ``name``: copies of its ``inputDefinitions`` and
    ``outputDefinitions`` (a task changes defaults), and its executor's ``container``,
    shared (never changed: every task of the component runs the same launcher)."""
    spec = _snapshot()["components"][name]
    return {
        "container": spec["container"],
        "inputDefinitions": copy.deepcopy(spec["inputDefinitions"]),
        "outputDefinitions": copy.deepcopy(spec["outputDefinitions"]),
    }


def register_gcpc(
    build: Build,
    task: str,
    name: str,
    defaults: dict[str, Any] | None = None,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Component ``comp-<task>`` and executor ``exec-<task>`` of GCPC component ``name``.

    ``defaults`` replace input defaults, as GCPC's own wrappers do
    (``create_custom_training_job_from_component`` bakes its machine and container into
    ``worker_pool_specs`` so); a None removes the default. ``extra`` adds the
    ``inputDefinitions``/``outputDefinitions`` of the step's own interface. Returns the
    component, for the caller to read its definitions.
    """
    spec = component(name)
    inputs = spec["inputDefinitions"]
    for param, value in (defaults or {}).items():
        definition = inputs["parameters"][param]
        if value is None:
            definition.pop("defaultValue", None)
        else:
            definition["defaultValue"] = value
            definition["isOptional"] = True
    for section, more in (extra or {}).items():
        for kind, values in more.items():
            spec.setdefault(section, {}).setdefault(kind, {}).update(values)
    comp = {
        "executorLabel": f"exec-{task}",
        "inputDefinitions": spec["inputDefinitions"],
        "outputDefinitions": spec["outputDefinitions"],
    }
    build.components[f"comp-{task}"] = comp
    build.executors[f"exec-{task}"] = {"container": spec["container"]}
    return comp
