"""examples/churn for Vertex AI as a GCPC user writes it: the catalog's SQL ingest with
the warehouse DSN read from Secret Manager, the two pinned transforms, the catalog's
xgboost train as a custom job on an n1-standard-2 with a T4
(create_custom_training_job_from_component), the evaluate, and, when the AUC passes,
the model uploaded with its serving image and deployed to a new endpoint, then
pipespec's drift check."""

from google_cloud_pipeline_components.v1.custom_job import (
    create_custom_training_job_from_component,
)
from kfp import dsl

from tests.conformance.kfp_programs.common import (
    SCRIPT_RUNNER,
    example_script,
    standard_script,
)
from tests.conformance.vertex_programs.common import GCP, endpoint_deploy, secret_command

IMAGE = "ghcr.io/acme/churn:1.4.2"
XGBOOST_IMAGE = "us-docker.pkg.dev/vertex-ai/training/xgboost-cpu.2-1:latest"
XGBOOST_GPU_IMAGE = "us-docker.pkg.dev/vertex-ai/training/xgboost-gpu.2-1:latest"
SERVING_IMAGE = "us-docker.pkg.dev/vertex-ai/prediction/xgboost-cpu.2-1:latest"
WAREHOUSE = {"PIPESPEC_DATABASE_URL": "projects/acme/secrets/warehouse/versions/latest"}
SKLEARN_IMAGE = "us-docker.pkg.dev/vertex-ai/training/sklearn-cpu.1-6:latest"
# tracking.mlflow: the server and the experiment, in every step's env.
ENV = {"MLFLOW_EXPERIMENT_NAME": "churn", "MLFLOW_TRACKING_URI": "http://mlflow.internal:5000"}
HYPERPARAMETERS = (
    '{"alpha":0.0,"colsample_bytree":0.8,"eta":0.1,"eval_metric":"logloss","lambda":1.0,'
    '"max_depth":6,"min_child_weight":1.0,"num_round":200,"objective":"binary:logistic",'
    '"seed":42,"subsample":0.8,"tree_method":"hist"}'
)


@dsl.container_component
def ingest(day: str, raw: dsl.Output[dsl.Dataset]):
    return dsl.ContainerSpec(
        image=IMAGE,
        command=secret_command(
            WAREHOUSE, ["sh", "-c", SCRIPT_RUNNER, standard_script("ingest_sql")]
        ),
        args=["--query", "SELECT * FROM events WHERE day = :day", "--out", raw.path,
              "--param", f"day={day}"],
    )  # fmt: skip


@dsl.container_component
def clean(raw: dsl.Input[dsl.Dataset], data: dsl.Output[dsl.Dataset]):
    return dsl.ContainerSpec(
        image=IMAGE,
        command=["sh", "-c", SCRIPT_RUNNER, example_script("churn", "clean.py")],
        args=["--input-data", raw.path, "--output-data", data.path],
    )


@dsl.container_component
def features(
    data: dsl.Input[dsl.Dataset],
    train: dsl.Output[dsl.Dataset],
    validation: dsl.Output[dsl.Dataset],
    test: dsl.Output[dsl.Dataset],
):
    return dsl.ContainerSpec(
        image=IMAGE,
        command=["sh", "-c", SCRIPT_RUNNER, example_script("churn", "features.py")],
        args=["--input-data", data.path, "--output-test", test.path, "--output-train",
              train.path, "--output-validation", validation.path],
    )  # fmt: skip


@dsl.container_component
def train(
    train: dsl.Input[dsl.Dataset],
    validation: dsl.Input[dsl.Dataset],
    model: dsl.Output[dsl.Model],
):
    return dsl.ContainerSpec(
        image=XGBOOST_GPU_IMAGE,  # the step asks for a GPU
        command=["sh", "-c", SCRIPT_RUNNER, standard_script("train")],
        args=["--framework", "xgboost", "--task", "binary_classification", "--train",
              train.path, "--validation", validation.path, "--model", model.path,
              "--hyperparameters", HYPERPARAMETERS],
    )  # fmt: skip


train_job = create_custom_training_job_from_component(
    train,
    machine_type="n1-standard-2",
    accelerator_type="NVIDIA_TESLA_T4",
    accelerator_count=1,
    timeout="7200s",
    env=[{"name": k, "value": v} for k, v in ENV.items()],
)


# `metrics_auc`: the metric the deploy's dsl.If compares (kfp_normal_form._metric_views).
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


# pipespec's drift check (in Vertex's scikit-learn image: pandas, numpy and scipy): the
# requests the endpoint logged against the training data.
@dsl.container_component
def monitor(
    baseline: dsl.Input[dsl.Dataset],
    log: str,
    report: dsl.Output[dsl.Artifact],
    metrics: dsl.OutputPath(dict),
):
    return dsl.ContainerSpec(
        image=SKLEARN_IMAGE,
        command=["sh", "-c", SCRIPT_RUNNER, standard_script("drift")],
        args=["--baseline", baseline.path, "--current-log", log, "--metric", "psi",
              "--threshold", "0.2", "--report", report.path, "--metrics", metrics],
    )  # fmt: skip


def _retry(task: dsl.PipelineTask) -> dsl.PipelineTask:
    return task.set_retry(num_retries=2, backoff_max_duration="21600s")  # 3 tries x 2h


def _step(task: dsl.PipelineTask) -> dsl.PipelineTask:
    """defaults: retries 2 (of 2h), 2 CPUs and 4Gi, MLflow (tracking.mlflow) in env."""
    _retry(task).set_cpu_request("2").set_memory_request("4Gi").set_memory_limit("4Gi")
    for name, value in ENV.items():
        task.set_env_variable(name, value)
    return task


@dsl.pipeline(
    name="churn-retrain",
    description="Weekly churn retraining with a quality gate",
    pipeline_root="gs://acme-ml/pipelines",
)
def pipeline(min_auc: float = 0.82, regions: list = ["eu", "us"], day: str = "2024-01-01"):  # noqa: B006 (kfp reads the default)
    """Weekly churn retraining with a quality gate.

    Args:
        day: The day of events to ingest
    """
    raw = _step(ingest(day=day))
    cleaned = _step(clean(raw=raw.outputs["raw"]))
    split = _step(features(data=cleaned.outputs["data"]))
    trainer = _retry(
        train_job(train=split.outputs["train"], validation=split.outputs["validation"])
    )
    scores = _step(evaluate(model=trainer.outputs["model"], test=split.outputs["test"]))
    with dsl.If(scores.outputs["metrics_auc"] >= min_auc):
        # The model with its serving image, uploaded, on a new endpoint.
        deployed = endpoint_deploy(
            trainer.outputs["model"],
            SERVING_IMAGE,
            "churn-scorer",
            GCP,
            machine_type="n1-standard-2",
            min_replica_count=1,
            max_replica_count=4,
        )
        _retry(deployed)
        log = "s3://acme-ml/churn/requests/"
        _step(monitor(baseline=split.outputs["train"], log=log)).after(deployed)
