"""examples/churn as a kfp DSL program: ingest with the catalog's SQL script, the two
transforms `pipespec fill` pinned in examples/churn/scripts, the catalog's xgboost train
and evaluate on a GPU, and the deploy gated on the AUC (pipespec's applier putting the
model on a KServe InferenceService), followed by pipespec's drift check of the endpoint's
logged requests."""

from kfp import dsl, kubernetes

from tests.conformance.kfp_programs.common import (
    APPLIER_PROGRAM,
    HELPER_IMAGE,
    MODEL_URI_MARKER,
    SCRIPT_RUNNER,
    example_script,
    inference_service,
    set_env,
    standard_script,
)

IMAGE = "ghcr.io/acme/churn:1.4.2"
CATALOG_IMAGE = "public.ecr.aws/sagemaker/sagemaker-distribution:4.4.1-cpu"
# The train step asks for a T4: the catalog's GPU build of the same image.
CATALOG_GPU_IMAGE = "public.ecr.aws/sagemaker/sagemaker-distribution:4.4.1-gpu"
MLFLOW = {"MLFLOW_EXPERIMENT_NAME": "churn", "MLFLOW_TRACKING_URI": "http://mlflow.internal:5000"}
HYPERPARAMETERS = (
    '{"alpha":0.0,"colsample_bytree":0.8,"eta":0.1,"eval_metric":"logloss","lambda":1.0,'
    '"max_depth":6,"min_child_weight":1.0,"num_round":200,"objective":"binary:logistic",'
    '"seed":42,"subsample":0.8,"tree_method":"hist"}'
)


@dsl.container_component
def ingest(day: str, raw: dsl.Output[dsl.Dataset]):
    return dsl.ContainerSpec(
        image=IMAGE,
        command=["sh", "-c", SCRIPT_RUNNER, standard_script("ingest_sql")],
        args=[
            "--query",
            "SELECT * FROM events WHERE day = :day",
            "--out",
            raw.path,
            "--param",
            f"day={day}",
        ],
    )


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
        args=[
            "--input-data",
            data.path,
            "--output-test",
            test.path,
            "--output-train",
            train.path,
            "--output-validation",
            validation.path,
        ],
    )


@dsl.container_component
def train(
    train: dsl.Input[dsl.Dataset],
    validation: dsl.Input[dsl.Dataset],
    model: dsl.Output[dsl.Model],
):
    return dsl.ContainerSpec(
        image=CATALOG_GPU_IMAGE,
        command=["sh", "-c", SCRIPT_RUNNER, standard_script("train")],
        args=[
            "--framework",
            "xgboost",
            "--task",
            "binary_classification",
            "--train",
            train.path,
            "--validation",
            validation.path,
            "--model",
            model.path,
            "--hyperparameters",
            HYPERPARAMETERS,
        ],
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
        image=CATALOG_IMAGE,
        command=["sh", "-c", SCRIPT_RUNNER, standard_script("evaluate")],
        args=["--model", model.path, "--test", test.path, "--metrics", metrics],
    )


@dsl.container_component
def deploy(model: dsl.Input[dsl.Model], endpoint: dsl.OutputPath(str)):
    return dsl.ContainerSpec(
        image=HELPER_IMAGE,
        command=[
            "python3",
            "-c",
            APPLIER_PROGRAM,
            "--model-uri",
            model.uri,
            "--url-file",
            endpoint,
        ],
    )


# The endpoint's xgboost model, served by KServe's predictive server (its sklearn format).
SERVING = inference_service(
    "deploy",
    "churn-scorer",
    {
        "minReplicas": 1,
        "maxReplicas": 4,
        "model": {
            "modelFormat": {"name": "sklearn"},
            "runtime": "kserve-predictiveserver",
            "storageUri": MODEL_URI_MARKER,
            "resources": {"requests": {"cpu": "2", "memory": "4Gi"}, "limits": {"memory": "4Gi"}},
        },
    },
)


# pipespec's drift check: the requests the endpoint logged against the training data.
@dsl.container_component
def monitor(
    baseline: dsl.Input[dsl.Dataset],
    log: str,
    report: dsl.Output[dsl.Artifact],
    metrics: dsl.OutputPath(dict),
):
    return dsl.ContainerSpec(
        image=CATALOG_IMAGE,
        command=["sh", "-c", SCRIPT_RUNNER, standard_script("drift")],
        args=["--baseline", baseline.path, "--current-log", log, "--metric", "psi",
              "--threshold", "0.2", "--report", report.path, "--metrics", metrics],
    )  # fmt: skip


def _step(task: dsl.PipelineTask) -> dsl.PipelineTask:
    """defaults: retries 2, timeout 2h, 2 CPUs and 4Gi, MLflow (tracking.mlflow) in env."""
    task.set_retry(num_retries=2, backoff_max_duration="21600s")  # 3 tries x 2h
    task.set_cpu_request("2").set_memory_request("4Gi").set_memory_limit("4Gi")
    set_env(task, MLFLOW)
    kubernetes.set_timeout(task, 7200)
    return task


@dsl.pipeline(name="churn-retrain", description="Weekly churn retraining with a quality gate")
def pipeline(min_auc: float = 0.82, regions: list = ["eu", "us"], day: str = "2024-01-01"):  # noqa: B006 (kfp reads the default)
    """Weekly churn retraining with a quality gate.

    Args:
        day: The day of events to ingest
    """
    raw = _step(ingest(day=day))
    kubernetes.use_secret_as_env(
        raw, secret_name="warehouse-creds", secret_key_to_env={"dsn": "PIPESPEC_DATABASE_URL"}
    )
    cleaned = _step(clean(raw=raw.outputs["raw"]))
    split = _step(features(data=cleaned.outputs["data"]))
    trainer = _step(train(train=split.outputs["train"], validation=split.outputs["validation"]))
    trainer.set_accelerator_type("nvidia.com/gpu").set_accelerator_limit(1)
    kubernetes.add_node_selector(trainer, "nvidia.com/gpu.product", "Tesla-T4")
    kubernetes.add_toleration(trainer, key="nvidia.com/gpu", operator="Exists", effect="NoSchedule")
    scores = _step(evaluate(model=trainer.outputs["model"], test=split.outputs["test"]))
    with dsl.If(scores.outputs["metrics_auc"] >= min_auc):
        deployed = set_env(_step(deploy(model=trainer.outputs["model"])), SERVING)
        # `after: [deploy]`: inside the dsl.If, where kfp lets it wait for the deploy
        # (kfp_normal_form._gate_after_conditions).
        log = "s3://acme-ml/churn/requests/"
        _step(monitor(baseline=split.outputs["train"], log=log)).after(deployed)
