"""What the Vertex DSL programs share beyond ``kfp_programs/common.py``: pipespec's fixed
Vertex helper programs (reading a secret from Secret Manager, installing a catalog image's
missing packages, a tuning trial, a model's serving form, the best trial), and the one
container component a GCPC user writes to hand a trained model to ModelUploadOp (and the
upload, endpoint and deploy around it); the tuning job wrapped around a trial component,
and the helper that reads its best trial.

The helper programs are pipespec's own constants, so they are read from
``pipespec/backends/vertex/programs.py`` (parsed, not imported: pipespec is not installed
in the kfp venv), as ``kfp_programs/common.py`` reads the Kubeflow helpers.
"""

import ast
import copy
from typing import Any

import yaml
from google.cloud.aiplatform import hyperparameter_tuning as hpt
from google.protobuf import json_format
from google_cloud_pipeline_components.types.artifact_types import UnmanagedContainerModel
from google_cloud_pipeline_components.v1.endpoint import EndpointCreateOp, ModelDeployOp
from google_cloud_pipeline_components.v1.hyperparameter_tuning_job import (
    HyperparameterTuningJobRunOp,
    serialize_parameters,
)
from google_cloud_pipeline_components.v1.model import ModelUploadOp
from kfp import components, dsl

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
JOB_RUNNER = _CONSTANTS["JOB_RUNNER"]
MODEL_PROGRAM = _CONSTANTS["MODEL_PROGRAM"]
BEST_TRIAL_PROGRAM = _CONSTANTS["BEST_TRIAL_PROGRAM"]
VALUES_PROGRAM = _CONSTANTS["VALUES_PROGRAM"]


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


def endpoint_deploy(
    model: Any, serving_image: str, endpoint: str, gcp: dict[str, str], **machine: Any
) -> dsl.PipelineTask:
    """A deploy step: the model with its serving image, uploaded, on a new endpoint
    (``<step>-model``, ``-upload``, ``-endpoint``, then the ModelDeployOp, ``deploy``);
    ``machine``: ModelDeployOp's dedicated resources."""
    container = model_task(model, serving_image, "deploy-model")
    upload = ModelUploadOp(
        **gcp,
        display_name=endpoint,
        unmanaged_container_model=container.outputs["container_model"],
    )
    upload.set_display_name("deploy-upload").set_caching_options(False)
    created = EndpointCreateOp(**gcp, display_name=endpoint)
    created.set_display_name("deploy-endpoint").set_caching_options(False)
    deployed = ModelDeployOp(
        endpoint=created.outputs["endpoint"],
        model=upload.outputs["model"],
        traffic_split={"0": 100},
        **{f"dedicated_resources_{k}": v for k, v in machine.items()},
    )
    return deployed.set_display_name("deploy")


def worker_pool(
    component: Any, machine_type: str, env: dict[str, str], **machine: Any
) -> list[dict[str, Any]]:
    """One pool running ``component``'s container (its command and args as kfp compiles
    them, with their input placeholders), as create_custom_training_job_from_component
    lays one out (GCPC's default boot disk)."""
    executor = next(iter(_spec(component)["deploymentSpec"]["executors"].values()))
    container = executor["container"]
    return [
        {
            "machine_spec": {"machine_type": machine_type, **machine},
            "replica_count": 1,
            "container_spec": {
                "image_uri": container["image"],
                "command": container.get("command", []),
                "args": container.get("args", []),
                "env": [{"name": k, "value": v} for k, v in env.items()],
            },
            "disk_spec": {"boot_disk_type": "pd-ssd", "boot_disk_size_gb": 100},
        }
    ]


def _spec(component: Any) -> dict[str, Any]:
    return dict(json_format.MessageToDict(component.pipeline_spec))


def tuning_job_from_component(component: Any, **defaults: Any) -> Any:
    """HyperparameterTuningJobRunOp with a trial component's inputs merged in and the
    job's settings as input defaults: what create_custom_training_job_from_component does
    to CustomTrainingJobOp (GCPC has no such wrapper for the tuning job), so that trials
    read the step's upstream artifacts through input placeholders in worker_pool_specs."""
    job = _spec(HyperparameterTuningJobRunOp)
    user = _spec(component)
    (job_comp,) = job["components"].values()
    (user_comp,) = user["components"].values()
    params = job_comp["inputDefinitions"]["parameters"]
    for name, value in defaults.items():
        params[name]["defaultValue"] = value
    user_inputs = user_comp.get("inputDefinitions", {})
    params.update(user_inputs.get("parameters", {}))
    job_comp["inputDefinitions"]["artifacts"] = user_inputs.get("artifacts", {})
    job["root"]["inputDefinitions"] = copy.deepcopy(job_comp["inputDefinitions"])
    (job_task,) = job["root"]["dag"]["tasks"].values()
    (user_task,) = user["root"]["dag"]["tasks"].values()
    job_task["inputs"].update(user_task.get("inputs", {}))
    wrapped = components.load_component_from_text(yaml.safe_dump(job))
    wrapped.component_spec.name = component.component_spec.name
    return wrapped


def study_parameters(space: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """A search space as GCPC's serialize_parameters writes it, from aiplatform's specs."""
    specs: dict[str, Any] = {}
    for name, dim in space.items():
        if dim["type"] == "categorical":
            specs[name] = hpt.CategoricalParameterSpec(values=dim["values"])
            continue
        kind = hpt.IntegerParameterSpec if dim["type"] == "int" else hpt.DoubleParameterSpec
        specs[name] = kind(min=dim["min"], max=dim["max"], scale=dim.get("scale", "linear"))
    return list(serialize_parameters(specs))


@dsl.container_component
def best_trial(
    gcp_resources: str,
    model: dsl.Output[dsl.Model],
    metrics: dsl.OutputPath(dict),
    best_hyperparameters: dsl.OutputPath(dict),
):
    """The finished tuning job's best trial: its model, metrics and hyperparameters."""
    return dsl.ContainerSpec(
        image=HELPER_IMAGE, command=["python3", "-c", BEST_TRIAL_PROGRAM], args=["{{$}}"]
    )


def best_task(
    job: dsl.PipelineTask, metric: str, goal: str, name: str, component: Any = best_trial
) -> dsl.PipelineTask:
    """The best-trial helper after ``job`` (``component``: one declaring more outputs, the
    metric views a program's dsl.If reads)."""
    task = component(gcp_resources=job.outputs["gcp_resources"])
    task.set_env_variable("PIPESPEC_METRIC", metric).set_env_variable("PIPESPEC_GOAL", goal)
    task.set_caching_options(False)
    return task.set_display_name(name)
