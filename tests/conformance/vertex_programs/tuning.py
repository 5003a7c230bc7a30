"""examples/tuning for Vertex AI as a GCPC user writes it: LightGBM tuned natively by a
Vertex hyperparameter tuning job (8 trials, 4 at a time, minimising the RMSE) whose
trials run the catalog's train script on the sklearn image with lightgbm installed, a
helper returning the best trial's model, the model evaluated, and the deploy gated on
the RMSE: the model uploaded with the serving image the deploy names (Vertex has no
prebuilt LightGBM serving image) and deployed to a new endpoint."""

import json

from google_cloud_pipeline_components.v1.hyperparameter_tuning_job import serialize_metrics
from kfp import dsl

from tests.conformance.kfp_programs.common import SCRIPT_RUNNER, standard_script
from tests.conformance.vertex_programs.common import (
    JOB_RUNNER,
    REQUIREMENTS_RUNNER,
    best_task,
    endpoint_deploy,
    study_parameters,
    tuning_job_from_component,
    worker_pool,
)

IMAGE = "ghcr.io/acme/houses:0.3.0"
SERVING_IMAGE = "ghcr.io/acme/houses-serving:0.3.0"
SKLEARN_IMAGE = "us-docker.pkg.dev/vertex-ai/training/sklearn-cpu.1-6:latest"
REQUIREMENTS = {"PIPESPEC_REQUIREMENTS": "lightgbm==4.6.0"}
# pipeline.lock.json: the catalog's lightgbm regression search space and defaults.
SPACE = {
    "colsample_bytree": {"max": 1.0, "min": 0.5, "scale": "linear", "type": "float"},
    "learning_rate": {"max": 0.3, "min": 0.01, "scale": "log", "type": "float"},
    "min_child_samples": {"max": 100, "min": 5, "scale": "log", "type": "int"},
    "n_estimators": {"max": 1000, "min": 100, "scale": "linear", "type": "int"},
    "num_leaves": {"max": 255, "min": 15, "scale": "log", "type": "int"},
    "reg_alpha": {"max": 10.0, "min": 0.001, "scale": "log", "type": "float"},
    "reg_lambda": {"max": 10.0, "min": 0.001, "scale": "log", "type": "float"},
    "subsample": {"max": 1.0, "min": 0.5, "scale": "linear", "type": "float"},
}
HYPERPARAMETERS = (
    '{"colsample_bytree":0.8,"learning_rate":0.05,"max_depth":-1,"min_child_samples":20,'
    '"n_estimators":200,"num_leaves":31,"objective":"regression","random_state":42,'
    '"reg_alpha":0.0,"reg_lambda":0.0,"subsample":0.8,"subsample_freq":1,"verbose":-1}'
)
# The trial runner's plan: where in the step's argv each trial's own output paths go,
# the dimensions Vertex appends as --name=value, and the metric it reports.
PLAN = {
    "arguments": {"13": [{"output": "model"}], "15": [{"output": "metrics"}]},
    "dimensions": sorted(SPACE),
    "length": 18,
    "metrics": "metrics",
    "objective": "rmse",
    "outputs": ["metrics", "model"],
    "pass_values": True,
}
INSTALL = ["sh", "-c", REQUIREMENTS_RUNNER, "pipespec-requirements"]
TRAIN_SCRIPT = ["sh", "-c", SCRIPT_RUNNER, standard_script("train")]


@dsl.container_component
def split(
    train: dsl.Output[dsl.Dataset],
    validation: dsl.Output[dsl.Dataset],
    test: dsl.Output[dsl.Dataset],
):
    return dsl.ContainerSpec(
        image=IMAGE,
        command=["python", "-m", "houses.split", "--train", train.path,
                 "--validation", validation.path, "--test", test.path],
    )  # fmt: skip


# A trial: the train script's own output paths are left empty, for the runner to fill.
@dsl.container_component
def tune(train: dsl.Input[dsl.Dataset], validation: dsl.Input[dsl.Dataset]):
    return dsl.ContainerSpec(
        image=SKLEARN_IMAGE,
        command=[*INSTALL, "python3", "-c", JOB_RUNNER, json.dumps(PLAN, sort_keys=True),
                 *TRAIN_SCRIPT, "--framework", "lightgbm", "--task", "regression",
                 "--train", train.path, "--validation", validation.path, "--model", "",
                 "--metrics", "", "--hyperparameters", HYPERPARAMETERS],
    )  # fmt: skip


tuning_job = tuning_job_from_component(
    tune,
    display_name="tune",
    base_output_directory="{{$.pipeline_root}}/{{$.pipeline_job_uuid}}/{{$.pipeline_task_uuid}}",
    location="us-central1",
    max_trial_count=8,
    parallel_trial_count=4,
    study_spec_metrics=serialize_metrics({"rmse": "minimize"}),
    study_spec_parameters=study_parameters(SPACE),
    worker_pool_specs=worker_pool(tune, "n1-standard-2", REQUIREMENTS),
)


# `metrics_rmse`: the metric the deploy's dsl.If compares (kfp_normal_form._metric_views).
@dsl.container_component
def evaluate(
    model: dsl.Input[dsl.Model],
    test: dsl.Input[dsl.Dataset],
    metrics: dsl.OutputPath(dict),
    metrics_rmse: dsl.OutputPath(float),
):
    return dsl.ContainerSpec(
        image=SKLEARN_IMAGE,
        command=[*INSTALL, "sh", "-c", SCRIPT_RUNNER, standard_script("evaluate")],
        args=["--model", model.path, "--test", test.path, "--metrics", metrics],
    )


def _retry(task: dsl.PipelineTask) -> dsl.PipelineTask:
    return task.set_retry(num_retries=1, backoff_max_duration="7200s")  # 2 tries x 1h


def _step(task: dsl.PipelineTask) -> dsl.PipelineTask:
    """defaults: retries 1 (of 1h), 2 CPUs and 4Gi."""
    _retry(task).set_cpu_request("2").set_memory_request("4Gi").set_memory_limit("4Gi")
    return task


@dsl.pipeline(
    name="house-prices",
    description="Tune a LightGBM regressor, evaluate the best trial, and gate the deploy on it",
)
def pipeline(max_rmse: float = 50000.0):
    data = _step(split())
    job = _retry(tuning_job(train=data.outputs["train"], validation=data.outputs["validation"]))
    best = best_task(job, "rmse", "minimize", "tune-best")
    scores = _step(evaluate(model=best.outputs["model"], test=data.outputs["test"]))
    for name, value in REQUIREMENTS.items():
        scores.set_env_variable(name, value)
    with dsl.If(scores.outputs["metrics_rmse"] <= max_rmse):
        # The best model with the serving image the deploy names, on a new endpoint.
        deployed = endpoint_deploy(
            best.outputs["model"],
            SERVING_IMAGE,
            "house-prices",
            {"location": "us-central1"},
            machine_type="n1-standard-2",
            min_replica_count=1,
            max_replica_count=2,
        )
        _retry(deployed)
