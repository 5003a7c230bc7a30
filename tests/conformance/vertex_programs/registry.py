"""examples/registry for Vertex AI as a GCPC user writes it: the catalog's xgboost train
as a custom job, the evaluate, the model uploaded to the Model Registry (group `churn`,
its tags and approval as labels) when the AUC clears the bar, then a batch prediction
job over the score data with the model's own serving image, after the register."""

from typing import Any

from google_cloud_pipeline_components.types.artifact_types import UnmanagedContainerModel
from google_cloud_pipeline_components.v1.batch_predict_job import ModelBatchPredictOp
from google_cloud_pipeline_components.v1.custom_job import (
    create_custom_training_job_from_component,
)
from google_cloud_pipeline_components.v1.model import ModelUploadOp
from kfp import dsl

from tests.conformance.kfp_programs.common import SCRIPT_RUNNER, standard_script
from tests.conformance.vertex_programs.common import HELPER_IMAGE, MODEL_PROGRAM, model_task

IMAGE = "ghcr.io/acme/churn:1.4.2"
SERVING_IMAGE = "ghcr.io/acme/churn-serving:1.4.2"
XGBOOST_IMAGE = "us-docker.pkg.dev/vertex-ai/training/xgboost-cpu.2-1:latest"
ENV = {"MLFLOW_TRACKING_URI": "http://mlflow.internal:5000"}
LOCATION = "us-central1"  # no targets.vertex: GCPC's default region
HYPERPARAMETERS = (
    '{"alpha":0.0,"colsample_bytree":0.8,"eta":0.1,"eval_metric":"logloss","lambda":1.0,'
    '"max_depth":6,"min_child_weight":1.0,"num_round":200,"objective":"binary:logistic",'
    '"seed":42,"subsample":0.8,"tree_method":"hist"}'
)


@dsl.container_component
def split(
    train: dsl.Output[dsl.Dataset], test: dsl.Output[dsl.Dataset], score: dsl.Output[dsl.Dataset]
):
    return dsl.ContainerSpec(
        image=IMAGE,
        command=["python", "-m", "churn.split", "--train", train.path, "--test", test.path,
                 "--score", score.path],
    )  # fmt: skip


@dsl.container_component
def train(train: dsl.Input[dsl.Dataset], model: dsl.Output[dsl.Model]):
    return dsl.ContainerSpec(
        image=XGBOOST_IMAGE,
        command=["sh", "-c", SCRIPT_RUNNER, standard_script("train")],
        args=["--framework", "xgboost", "--task", "binary_classification", "--train",
              train.path, "--model", model.path, "--hyperparameters", HYPERPARAMETERS],
    )  # fmt: skip


train_job = create_custom_training_job_from_component(
    train,
    machine_type="n1-standard-2",
    timeout="3600s",
    env=[{"name": k, "value": v} for k, v in ENV.items()],
)


# `metrics_auc`: the metric the register's dsl.If compares (kfp_normal_form._metric_views).
@dsl.container_component
def evaluate(
    model: dsl.Input[dsl.Model],
    test: dsl.Input[dsl.Dataset],
    metrics: dsl.OutputPath(dict),
    metrics_auc: dsl.OutputPath(float),
):
    return dsl.ContainerSpec(
        image=XGBOOST_IMAGE,
        command=["sh", "-c", SCRIPT_RUNNER, standard_script("evaluate")],
        args=["--model", model.path, "--test", test.path, "--metrics", metrics],
    )


# The batch prediction's model with its serving image, and its data as the URIs the job reads.
@dsl.container_component
def predict_model(
    model: dsl.Input[dsl.Model],
    data: dsl.Input[dsl.Dataset],
    container_model: dsl.Output[UnmanagedContainerModel],
    data_uris: dsl.OutputPath(list),
):
    return dsl.ContainerSpec(
        image=HELPER_IMAGE, command=["python3", "-c", MODEL_PROGRAM], args=["{{$}}"]
    )


def _retry(task: dsl.PipelineTask) -> dsl.PipelineTask:
    return task.set_retry(num_retries=1, backoff_max_duration="7200s")  # 2 tries x 1h


def _step(task: dsl.PipelineTask) -> dsl.PipelineTask:
    """defaults: retries 1 (of 1h), 2 CPUs and 4Gi, the MLflow server in env."""
    _retry(task).set_cpu_request("2").set_memory_request("4Gi").set_memory_limit("4Gi")
    for name, value in ENV.items():
        task.set_env_variable(name, value)
    return task


def _register(model: Any) -> dsl.PipelineTask:
    container = model_task(model, SERVING_IMAGE, "register-model")
    registered = ModelUploadOp(
        location=LOCATION,
        display_name="churn",
        description="Weekly churn model",
        labels={"pipespec-approval": "pending", "team": "growth"},
        unmanaged_container_model=container.outputs["container_model"],
    )
    return _retry(registered.set_display_name("register"))


def _predict(model: Any, data: Any, registered: dsl.PipelineTask) -> dsl.PipelineTask:
    """Every task of the step waits for the register (`after: [register]`)."""
    container = predict_model(model=model, data=data).set_display_name("predict-model")
    container.after(registered)
    container.set_env_variable("PIPESPEC_SERVING_IMAGE", SERVING_IMAGE)
    container.set_caching_options(False)
    upload = ModelUploadOp(
        location=LOCATION,
        display_name="predict",
        unmanaged_container_model=container.outputs["container_model"],
    )
    upload.set_display_name("predict-upload").set_caching_options(False).after(registered)
    predicted = ModelBatchPredictOp(
        job_display_name="predict",
        location=LOCATION,
        model=upload.outputs["model"],
        gcs_source_uris=container.outputs["data_uris"],
        instances_format="csv",
        predictions_format="jsonl",
        key_field="customer_id",
        machine_type="n1-standard-4",
        gcs_destination_output_uri_prefix=(
            "{{$.pipeline_root}}/{{$.pipeline_job_uuid}}/{{$.pipeline_task_uuid}}"
        ),
    )
    return _retry(predicted.set_display_name("predict").after(registered))


@dsl.pipeline(
    name="churn-registry",
    description="Train a churn model, register it when its AUC clears the bar, and score customers",
)
def pipeline(min_auc: float = 0.8):
    data = _step(split())
    trainer = _retry(train_job(train=data.outputs["train"]))
    scores = _step(evaluate(model=trainer.outputs["model"], test=data.outputs["test"]))
    with dsl.If(scores.outputs["metrics_auc"] >= min_auc):
        registered = _register(trainer.outputs["model"])
        # `after: [register]`: the whole batch prediction step (its model upload too)
        # runs after the register, inside its dsl.If
        # (kfp_normal_form._gate_after_conditions).
        _predict(trainer.outputs["model"], data.outputs["score"], registered)
