"""examples/registry as a kfp DSL program: the catalog's xgboost train and evaluate, the
catalog's register script gated on the AUC, then batch prediction in the model's serving
image."""

from kfp import dsl, kubernetes

from tests.conformance.kfp_programs.common import SCRIPT_RUNNER, standard_script

IMAGE = "ghcr.io/acme/churn:1.4.2"
SERVING_IMAGE = "ghcr.io/acme/churn-serving:1.4.2"
CATALOG_IMAGE = "public.ecr.aws/sagemaker/sagemaker-distribution:4.4.1-cpu"
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
        command=[
            "python",
            "-m",
            "churn.split",
            "--train",
            train.path,
            "--test",
            test.path,
            "--score",
            score.path,
        ],
    )


@dsl.container_component
def train(train: dsl.Input[dsl.Dataset], model: dsl.Output[dsl.Model]):
    return dsl.ContainerSpec(
        image=CATALOG_IMAGE,
        command=["sh", "-c", SCRIPT_RUNNER, standard_script("train")],
        args=[
            "--framework",
            "xgboost",
            "--task",
            "binary_classification",
            "--train",
            train.path,
            "--model",
            model.path,
            "--hyperparameters",
            HYPERPARAMETERS,
        ],
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
        image=CATALOG_IMAGE,
        command=["sh", "-c", SCRIPT_RUNNER, standard_script("evaluate")],
        args=["--model", model.path, "--test", test.path, "--metrics", metrics],
    )


@dsl.container_component
def register(model: dsl.Input[dsl.Model], metrics: dict, model_version: dsl.OutputPath(str)):
    return dsl.ContainerSpec(
        image=CATALOG_IMAGE,
        command=["sh", "-c", SCRIPT_RUNNER, standard_script("register")],
        args=[
            "--model",
            model.path,
            "--model-group",
            "churn",
            "--approval",
            "pending",
            "--metrics",
            metrics,
            "--description",
            "Weekly churn model",
            "--tag",
            "team=growth",
            "--serving-image",
            SERVING_IMAGE,
            "--model-version",
            model_version,
        ],
    )


@dsl.container_component
def predict(
    model: dsl.Input[dsl.Model], data: dsl.Input[dsl.Dataset], predictions: dsl.Output[dsl.Dataset]
):
    return dsl.ContainerSpec(
        image=SERVING_IMAGE,
        command=["sh", "-c", SCRIPT_RUNNER, standard_script("batch_predict")],
        args=[
            "--model",
            model.path,
            "--data",
            data.path,
            "--keep-columns",
            "customer_id",
            "--predictions",
            predictions.path,
        ],
    )


def _step(task: dsl.PipelineTask) -> dsl.PipelineTask:
    """defaults: retries 1, timeout 1h, 2 CPUs and 4Gi, the MLflow server in env."""
    task.set_retry(num_retries=1, backoff_max_duration="7200s")  # 2 tries x 1h
    task.set_cpu_request("2").set_memory_request("4Gi").set_memory_limit("4Gi")
    task.set_env_variable("MLFLOW_TRACKING_URI", "http://mlflow.internal:5000")
    kubernetes.set_timeout(task, 3600)
    return task


@dsl.pipeline(
    name="churn-registry",
    description="Train a churn model, register it when its AUC clears the bar, and score customers",
)
def pipeline(min_auc: float = 0.8):
    data = _step(split())
    trainer = _step(train(train=data.outputs["train"]))
    scores = _step(evaluate(model=trainer.outputs["model"], test=data.outputs["test"]))
    with dsl.If(scores.outputs["metrics_auc"] >= min_auc):
        registered = _step(
            register(model=trainer.outputs["model"], metrics=scores.outputs["metrics"])
        )
        # `after: [register]`: inside the dsl.If, where kfp lets it wait for the register
        # (kfp_normal_form._gate_after_conditions).
        _step(predict(model=trainer.outputs["model"], data=data.outputs["score"])).after(registered)
