"""examples/tuning as a kfp DSL program: LightGBM tuned with the catalog's standard train
script over trials a helper task draws, the best trial picked by a helper task, the best
model evaluated, and the deploy gated on its RMSE (pipespec's applier putting the model on
a KServe InferenceService in its serving image)."""

from kfp import dsl, kubernetes

from tests.conformance.kfp_programs.common import (
    APPLIER_PROGRAM,
    BEST_PROGRAM,
    HELPER_IMAGE,
    MODEL_URI_MARKER,
    SCRIPT_RUNNER,
    TRIALS_PROGRAM,
    inference_service,
    set_env,
    standard_script,
    trials_env,
)

IMAGE = "ghcr.io/acme/houses:0.3.0"
SERVING_IMAGE = "ghcr.io/acme/houses-serving:0.3.0"
CATALOG_IMAGE = "public.ecr.aws/sagemaker/sagemaker-distribution:4.4.1-cpu"
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


@dsl.container_component
def split(
    train: dsl.Output[dsl.Dataset],
    validation: dsl.Output[dsl.Dataset],
    test: dsl.Output[dsl.Dataset],
):
    return dsl.ContainerSpec(
        image=IMAGE,
        command=[
            "python",
            "-m",
            "houses.split",
            "--train",
            train.path,
            "--validation",
            validation.path,
            "--test",
            test.path,
        ],
    )


@dsl.container_component
def tune_trials(trials: dsl.OutputPath(list)):
    return dsl.ContainerSpec(
        image=HELPER_IMAGE, command=["python3", "-c", TRIALS_PROGRAM], args=[trials]
    )


@dsl.container_component
def tune(
    train: dsl.Input[dsl.Dataset],
    validation: dsl.Input[dsl.Dataset],
    colsample_bytree: str,
    learning_rate: str,
    min_child_samples: str,
    n_estimators: str,
    num_leaves: str,
    reg_alpha: str,
    reg_lambda: str,
    subsample: str,
    model: dsl.Output[dsl.Model],
    metrics: dsl.OutputPath(dict),
):
    return dsl.ContainerSpec(
        image=CATALOG_IMAGE,
        command=["sh", "-c", SCRIPT_RUNNER, standard_script("train")],
        args=[
            "--framework",
            "lightgbm",
            "--task",
            "regression",
            "--train",
            train.path,
            "--validation",
            validation.path,
            "--model",
            model.path,
            "--metrics",
            metrics,
            "--hyperparameters",
            HYPERPARAMETERS,
            f"--colsample_bytree={colsample_bytree}",
            f"--learning_rate={learning_rate}",
            f"--min_child_samples={min_child_samples}",
            f"--n_estimators={n_estimators}",
            f"--num_leaves={num_leaves}",
            f"--reg_alpha={reg_alpha}",
            f"--reg_lambda={reg_lambda}",
            f"--subsample={subsample}",
        ],
    )


# The trial lists are `trial_*`: Python names an input and an output alike only once.
@dsl.container_component
def tune_best(
    trials: list,
    trial_model: dsl.Input[list[dsl.Model]],
    trial_metrics: list,
    model: dsl.Output[dsl.Model],
    metrics: dsl.OutputPath(dict),
    best_hyperparameters: dsl.OutputPath(dict),
):
    return dsl.ContainerSpec(
        image=HELPER_IMAGE,
        command=["python3", "-c", BEST_PROGRAM],
        args=[dsl.PIPELINE_TASK_EXECUTOR_INPUT_PLACEHOLDER],
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


# The serving image the deploy names runs the model (KServe's custom container: the model's
# URI in STORAGE_URI, where KServe's storage initializer reads it).
SERVING = inference_service(
    "deploy",
    "house-prices",
    {
        "minReplicas": 1,
        "maxReplicas": 2,
        "containers": [
            {
                "name": "kserve-container",
                "image": SERVING_IMAGE,
                "env": [{"name": "STORAGE_URI", "value": MODEL_URI_MARKER}],
                "resources": {
                    "requests": {"cpu": "2", "memory": "4Gi"},
                    "limits": {"memory": "4Gi"},
                },
            }
        ],
    },
)


def _step(task: dsl.PipelineTask) -> dsl.PipelineTask:
    """defaults: retries 1, timeout 1h, 2 CPUs and 4Gi."""
    task.set_retry(num_retries=1, backoff_max_duration="7200s")  # 2 tries x 1h
    task.set_cpu_request("2").set_memory_request("4Gi").set_memory_limit("4Gi")
    kubernetes.set_timeout(task, 3600)
    return task


@dsl.pipeline(
    name="house-prices",
    description="Tune a LightGBM regressor, evaluate the best trial, and gate the deploy on it",
)
def pipeline(max_rmse: float = 50000.0):
    data = _step(split())
    trials = set_env(tune_trials(), trials_env("house-prices", "tune", SPACE, 8))
    trials.set_caching_options(False)
    with dsl.ParallelFor(items=trials.outputs["trials"], parallelism=4) as trial:
        trainer = _step(
            tune(
                train=data.outputs["train"],
                validation=data.outputs["validation"],
                colsample_bytree=trial.colsample_bytree,
                learning_rate=trial.learning_rate,
                min_child_samples=trial.min_child_samples,
                n_estimators=trial.n_estimators,
                num_leaves=trial.num_leaves,
                reg_alpha=trial.reg_alpha,
                reg_lambda=trial.reg_lambda,
                subsample=trial.subsample,
            )
        )
    best = tune_best(
        trials=trials.outputs["trials"],
        trial_model=dsl.Collected(trainer.outputs["model"]),
        trial_metrics=dsl.Collected(trainer.outputs["metrics"]),
    )
    set_env(best, {"PIPESPEC_METRIC": "rmse", "PIPESPEC_GOAL": "minimize"})
    best.set_caching_options(False)
    scores = _step(evaluate(model=best.outputs["model"], test=data.outputs["test"]))
    with dsl.If(scores.outputs["metrics_rmse"] <= max_rmse):
        set_env(_step(deploy(model=best.outputs["model"])), SERVING)
