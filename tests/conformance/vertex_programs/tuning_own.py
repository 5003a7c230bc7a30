"""examples/tuning-own for Vertex AI as a GCPC user writes it: the step's own PyTorch
training command tuned natively by a Vertex hyperparameter tuning job (6 trials, 3 at a
time, maximising val_auc; each trial's values where the command names them, dropout in
its env), the best trial picked by a helper, and the retrain gated on the best AUC and
layer count."""

import json

from google_cloud_pipeline_components.v1.hyperparameter_tuning_job import serialize_metrics
from kfp import dsl

from tests.conformance.kfp_programs.common import ENV_RUNNER
from tests.conformance.vertex_programs.common import (
    BEST_TRIAL_PROGRAM,
    HELPER_IMAGE,
    JOB_RUNNER,
    best_task,
    study_parameters,
    tuning_job_from_component,
    worker_pool,
)

IMAGE = "ghcr.io/acme/fraud:2.1.0"
SPACE = {
    "lr": {"type": "float", "min": 0.0001, "max": 0.1, "scale": "log"},
    "layers": {"type": "int", "min": 2, "max": 6},
    "optimizer": {"type": "categorical", "values": ["adam", "sgd"]},
    "dropout": {"type": "float", "min": 0.0, "max": 0.5},
}
# The trial runner's plan: which argv places take a trial's value or its own output path
# (after the text before it), the dimensions, and the metric it reports.
PLAN = {
    "arguments": {
        "4": ["DROPOUT=", {"hyperparameter": "dropout"}],
        "11": ["--lr=", {"hyperparameter": "lr"}],
        "12": ["--layers=", {"hyperparameter": "layers"}],
        "13": ["--optimizer=", {"hyperparameter": "optimizer"}],
        "14": ["--model=", {"output": "model"}],
        "15": ["--metrics=", {"output": "metrics"}],
    },
    "dimensions": sorted(SPACE),
    "length": 16,
    "metrics": "metrics",
    "objective": "val_auc",
    "outputs": ["metrics", "model"],
    "pass_values": False,
}


@dsl.container_component
def split(train: dsl.Output[dsl.Dataset], validation: dsl.Output[dsl.Dataset]):
    return dsl.ContainerSpec(
        image=IMAGE,
        command=["python", "-m", "fraud.split", "--train", train.path,
                 "--validation", validation.path],
    )  # fmt: skip


# A trial: the places the runner fills (values, own outputs, DROPOUT) are left empty.
@dsl.container_component
def tune(train: dsl.Input[dsl.Dataset], validation: dsl.Input[dsl.Dataset]):
    return dsl.ContainerSpec(
        image=IMAGE,
        command=["python3", "-c", JOB_RUNNER, json.dumps(PLAN, sort_keys=True),
                 "sh", "-c", ENV_RUNNER, "pipespec-env", "", "--",
                 "python", "-m", "fraud.train", f"--train={train.path}",
                 f"--validation={validation.path}", "", "", "", "", ""],
    )  # fmt: skip


tuning_job = tuning_job_from_component(
    tune,
    display_name="tune",
    base_output_directory="{{$.pipeline_root}}/{{$.pipeline_job_uuid}}/{{$.pipeline_task_uuid}}",
    location="us-central1",
    max_trial_count=6,
    parallel_trial_count=3,
    study_spec_metrics=serialize_metrics({"val_auc": "maximize"}),
    study_spec_parameters=study_parameters(SPACE),
    worker_pool_specs=worker_pool(tune, "n1-standard-4", {}),
)


# The metric views the retrain's dsl.If compares (kfp_normal_form._metric_views).
@dsl.container_component
def tune_best(
    gcp_resources: str,
    model: dsl.Output[dsl.Model],
    metrics: dsl.OutputPath(dict),
    best_hyperparameters: dsl.OutputPath(dict),
    metrics_val_auc: dsl.OutputPath(float),
    best_hyperparameters_layers: dsl.OutputPath(float),
):
    return dsl.ContainerSpec(
        image=HELPER_IMAGE, command=["python3", "-c", BEST_TRIAL_PROGRAM], args=["{{$}}"]
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
        command=["python", "-m", "fraud.retrain", "--train", train.path, "--best", best,
                 "--warm-start", warm.path, "--model", model.path],
    )  # fmt: skip


def _retry(task: dsl.PipelineTask) -> dsl.PipelineTask:
    return task.set_retry(num_retries=1, backoff_max_duration="14400s")  # 2 tries x 2h


@dsl.pipeline(
    name="own-tuning",
    description="Tune a PyTorch classifier with its own training script, retrain on all "
    "data with the best values",
)
def pipeline(min_auc: float = 0.8):
    data = _retry(split())
    job = _retry(tuning_job(train=data.outputs["train"], validation=data.outputs["validation"]))
    best = best_task(job, "val_auc", "maximize", "tune-best", component=tune_best)
    with dsl.If(best.outputs["metrics_val_auc"] >= min_auc):  # noqa: SIM117 (one dsl.If each)
        with dsl.If(best.outputs["best_hyperparameters_layers"] <= 4):
            _retry(
                retrain(
                    train=data.outputs["train"],
                    best=best.outputs["best_hyperparameters"],
                    warm=best.outputs["model"],
                )
            )
