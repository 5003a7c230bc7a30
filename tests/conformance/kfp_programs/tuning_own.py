"""examples/tuning-own as a kfp DSL program: the team's own trainer tuned over trials a
helper task draws, one loop iteration per trial, the best trial picked by a helper task,
and a retrain gated on the best trial's metric and values."""

from kfp import dsl, kubernetes

from tests.conformance.kfp_programs.common import (
    BEST_PROGRAM,
    ENV_RUNNER,
    HELPER_IMAGE,
    TRIALS_PROGRAM,
    set_env,
    trials_env,
)

IMAGE = "ghcr.io/acme/fraud:2.1.0"
SPACE = {
    "lr": {"type": "float", "min": 0.0001, "max": 0.1, "scale": "log"},
    "layers": {"type": "int", "min": 2, "max": 6},
    "optimizer": {"type": "categorical", "values": ["adam", "sgd"]},
    "dropout": {"type": "float", "min": 0.0, "max": 0.5},
}


@dsl.container_component
def split(train: dsl.Output[dsl.Dataset], validation: dsl.Output[dsl.Dataset]):
    return dsl.ContainerSpec(
        image=IMAGE,
        command=[
            "python",
            "-m",
            "fraud.split",
            "--train",
            train.path,
            "--validation",
            validation.path,
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
    lr: str,
    layers: str,
    optimizer: str,
    dropout: str,
    model: dsl.Output[dsl.Model],
    metrics: dsl.OutputPath(dict),
):
    return dsl.ContainerSpec(
        image=IMAGE,
        command=[
            "sh",
            "-c",
            ENV_RUNNER,
            "pipespec-env",
            f"DROPOUT={dropout}",
            "--",
            "python",
            "-m",
            "fraud.train",
            f"--train={train.path}",
            f"--validation={validation.path}",
            f"--lr={lr}",
            f"--layers={layers}",
            f"--optimizer={optimizer}",
            f"--model={model.path}",
            f"--metrics={metrics}",
        ],
    )


# Python names an input and an output alike only once: the trial lists are `trial_*`
# (pipespec's helper calls them as the outputs are called; names aside, inputs compare
# by source). `metrics_val_auc` and `best_hyperparameters_layers` are the keys the
# retrain's dsl.If compares (kfp_normal_form._metric_views).
@dsl.container_component
def tune_best(
    trials: list,
    trial_model: dsl.Input[list[dsl.Model]],
    trial_metrics: list,
    model: dsl.Output[dsl.Model],
    metrics: dsl.OutputPath(dict),
    best_hyperparameters: dsl.OutputPath(dict),
    metrics_val_auc: dsl.OutputPath(float),
    best_hyperparameters_layers: dsl.OutputPath(float),
):
    return dsl.ContainerSpec(
        image=HELPER_IMAGE,
        command=["python3", "-c", BEST_PROGRAM],
        args=[dsl.PIPELINE_TASK_EXECUTOR_INPUT_PLACEHOLDER],
    )


@dsl.container_component
def retrain(
    train: dsl.Input[dsl.Dataset],
    best: dict,
    warm: dsl.Input[dsl.Model],
    model: dsl.Output[dsl.Model],
):
    return dsl.ContainerSpec(
        image=IMAGE,
        command=[
            "python",
            "-m",
            "fraud.retrain",
            "--train",
            train.path,
            "--best",
            best,
            "--warm-start",
            warm.path,
            "--model",
            model.path,
        ],
    )


def _step(task: dsl.PipelineTask) -> dsl.PipelineTask:
    """defaults: retries 1, timeout 2h."""
    task.set_retry(num_retries=1, backoff_max_duration="14400s")  # 2 tries x 2h
    kubernetes.set_timeout(task, 7200)
    return task


@dsl.pipeline(
    name="own-tuning",
    description="Tune a PyTorch classifier with its own training script, retrain on all "
    "data with the best values",
)
def pipeline(min_auc: float = 0.8):
    data = _step(split())
    trials = set_env(tune_trials(), trials_env("own-tuning", "tune", SPACE, 6))
    trials.set_caching_options(False)
    with dsl.ParallelFor(items=trials.outputs["trials"], parallelism=3) as trial:
        trainer = tune(
            train=data.outputs["train"],
            validation=data.outputs["validation"],
            lr=trial.lr,
            layers=trial.layers,
            optimizer=trial.optimizer,
            dropout=trial.dropout,
        )
        _step(trainer).set_cpu_request("4").set_memory_request("8Gi").set_memory_limit("8Gi")
    best = tune_best(
        trials=trials.outputs["trials"],
        trial_model=dsl.Collected(trainer.outputs["model"]),
        trial_metrics=dsl.Collected(trainer.outputs["metrics"]),
    )
    set_env(best, {"PIPESPEC_METRIC": "val_auc", "PIPESPEC_GOAL": "maximize"})
    best.set_caching_options(False)
    with dsl.If(best.outputs["metrics_val_auc"] >= min_auc):  # noqa: SIM117 (one dsl.If each)
        with dsl.If(best.outputs["best_hyperparameters_layers"] <= 4):
            _step(
                retrain(
                    train=data.outputs["train"],
                    best=best.outputs["best_hyperparameters"],
                    warm=best.outputs["model"],
                )
            )
