"""What the Vertex DSL programs share beyond ``kfp_programs/common.py``: pipespec's fixed
Vertex helper programs (reading a secret from Secret Manager, installing a catalog image's
missing packages, a tuning trial, a model's serving form, the best trial), and the one
container component a GCPC user writes to hand a trained model to ModelUploadOp.

The helper programs are pipespec's own constants, so they are read from
``pipespec/backends/vertex/programs.py`` (parsed, not imported: pipespec is not installed
in the kfp venv), as ``kfp_programs/common.py`` reads the Kubeflow helpers.
"""

import ast
from typing import Any

from google_cloud_pipeline_components.types.artifact_types import UnmanagedContainerModel
from kfp import dsl

from tests.conformance.kfp_programs.common import ROOT

HELPER_IMAGE = "python:3.11-slim"
GCP = {"project": "acme-ml", "location": "europe-west4"}


def _constants() -> dict[str, str]:
    path = ROOT / "pipespec" / "backends" / "vertex" / "programs.py"
    found: dict[str, str] = {}
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant):
            for target in node.targets:
                if isinstance(target, ast.Name) and isinstance(node.value.value, str):
                    found[target.id] = node.value.value
    return found


_CONSTANTS = _constants()
SECRET_RUNNER = _CONSTANTS["SECRET_RUNNER"]
REQUIREMENTS_RUNNER = _CONSTANTS["REQUIREMENTS_RUNNER"]
TRIAL_RUNNER = _CONSTANTS["TRIAL_RUNNER"]
MODEL_PROGRAM = _CONSTANTS["MODEL_PROGRAM"]
BEST_TRIAL_PROGRAM = _CONSTANTS["BEST_TRIAL_PROGRAM"]


def secret_command(secrets: dict[str, str], argv: list[str]) -> list[str]:
    """A step's argv behind the Secret Manager runner: NAME=secret version pairs, `--`."""
    return ["python3", "-c", SECRET_RUNNER, *(f"{k}={v}" for k, v in secrets.items()), "--", *argv]


@dsl.container_component
def serving_model(
    model: dsl.Input[dsl.Model], container_model: dsl.Output[UnmanagedContainerModel]
):
    """The trained model as ModelUploadOp reads it (its URI and serving image)."""
    return dsl.ContainerSpec(
        image=HELPER_IMAGE, command=["python3", "-c", MODEL_PROGRAM], args=["{{$}}"]
    )


def model_task(model: Any, serving_image: str, name: str) -> dsl.PipelineTask:
    """The helper handing ``model`` to ModelUploadOp, named ``<step>-model`` in the console."""
    task = serving_model(model=model)
    task.set_env_variable("PIPESPEC_SERVING_IMAGE", serving_image)
    task.set_caching_options(False)
    return task.set_display_name(name)
