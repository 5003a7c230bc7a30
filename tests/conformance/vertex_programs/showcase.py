"""examples/showcase for Vertex AI as a GCPC user writes it: ingest with the warehouse
DSN from Secret Manager, per-region features in a loop over a list parameter, a split
after every region's features, the tune (its own search: one custom job) and the train
on a g2-standard-4 with an L4 as custom jobs, the deploy (the model uploaded with its
serving image and deployed to a new endpoint) gated on the RMSE and a flag, then
pipespec's drift check and a notification."""

from google_cloud_pipeline_components.v1.custom_job import (
    create_custom_training_job_from_component,
)
from kfp import dsl

from tests.conformance.kfp_programs.common import ENV_RUNNER, SCRIPT_RUNNER, standard_script
from tests.conformance.vertex_programs.common import (
    HELPER_IMAGE,
    JOB_RUNNER,
    VALUES_PROGRAM,
    endpoint_deploy,
    secret_command,
)

IMAGE = "ghcr.io/acme/forecast:2.0.1"
SERVING_IMAGE = "ghcr.io/acme/forecast-serving:2.0.1"
SKLEARN_IMAGE = "us-docker.pkg.dev/vertex-ai/training/sklearn-cpu.1-6:latest"
GCP = {"project": "acme-forecast", "location": "us-central1"}
ENV = {"LOG_LEVEL": "info"}
WAREHOUSE = {"WAREHOUSE_DSN": "projects/acme/secrets/warehouse/versions/latest"}
NOTIFY = 'echo "done: run for $RUN_DATE" && curl -fsS -X POST "$SLACK_WEBHOOK" -d "{\\"text\\": \\"forecast ok\\"}"'  # noqa: E501


@dsl.container_component
def ingest(run_date: str, raw: dsl.Output[dsl.Dataset]):
    return dsl.ContainerSpec(
        image=IMAGE,
        command=secret_command(
            WAREHOUSE, ["python", "-m", "forecast.ingest", "--date", run_date, "--out", raw.path]
        ),
    )


@dsl.container_component
def features(
    region: str, raw: dsl.Input[dsl.Dataset], full_refresh: bool, data: dsl.Output[dsl.Dataset]
):
    return dsl.ContainerSpec(
        image=IMAGE,
        command=["sh", "-c", ENV_RUNNER, "pipespec-env", f"FULL_REFRESH={full_refresh}",
                 f"REGION={region}", "--", "python", "-m", "forecast.features", "--region",
                 region, "--in", raw.path, "--out", data.path, "--home", "${HOME}",
                 "--literal", "${not_a_placeholder}"],
    )  # fmt: skip


@dsl.container_component
def split(
    data: dsl.Input[dsl.Dataset], train: dsl.Output[dsl.Dataset], test: dsl.Output[dsl.Dataset]
):
    return dsl.ContainerSpec(
        image=IMAGE,
        command=["python", "-m", "forecast.split", "--in", data.path, "--train", train.path,
                 "--test", test.path],
    )  # fmt: skip


@dsl.container_component
def tune(
    train: dsl.Input[dsl.Dataset], model: dsl.Output[dsl.Model], metrics: dsl.OutputPath(dict)
):
    return dsl.ContainerSpec(
        image=IMAGE,
        command=["python", "-m", "forecast.tune", "--train", train.path, "--model", model.path,
                 "--metrics", metrics],
    )  # fmt: skip


# `--params <the tune's metrics>`: a dict produced at run time cannot go into the job's
# JSON spec (Vertex fills placeholders in unescaped), so a small task writes it to a file
# and the job's runner puts it in the argv when the job starts.
@dsl.container_component
def train_values(best: dict, values: dsl.Output[dsl.Artifact]):
    return dsl.ContainerSpec(
        image=HELPER_IMAGE,
        command=["python3", "-c", VALUES_PROGRAM],
        args=["{{$}}", values.path],
    )


TRAIN_PLAN = '{"arguments": {"6": [{"value": "best"}]}, "length": 9, "values": true}'


@dsl.container_component
def train(
    train: dsl.Input[dsl.Dataset], values: dsl.Input[dsl.Artifact], model: dsl.Output[dsl.Model]
):
    return dsl.ContainerSpec(
        image=IMAGE,
        command=["python3", "-c", JOB_RUNNER, TRAIN_PLAN, values.path,
                 "python", "-m", "forecast.train", "--train", train.path, "--params", "",
                 "--model", model.path],
    )  # fmt: skip


_ENV = [{"name": k, "value": v} for k, v in ENV.items()]
tune_job = create_custom_training_job_from_component(
    tune, machine_type="n1-standard-2", timeout="10800s", env=_ENV
)
train_job = create_custom_training_job_from_component(
    train,
    machine_type="g2-standard-4",
    accelerator_type="NVIDIA_L4",
    accelerator_count=1,
    timeout="3600s",
    env=_ENV,
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
        image=IMAGE,
        command=["python", "-m", "forecast.evaluate", "--model", model.path, "--test",
                 test.path, "--metrics", metrics],
    )  # fmt: skip


# pipespec's drift check (in Vertex's scikit-learn image: pandas, numpy and scipy): today's
# data against the training data.
@dsl.container_component
def monitor(
    baseline: dsl.Input[dsl.Dataset],
    current: dsl.Input[dsl.Dataset],
    report: dsl.Output[dsl.Artifact],
    metrics: dsl.OutputPath(dict),
):
    return dsl.ContainerSpec(
        image=SKLEARN_IMAGE,
        command=["sh", "-c", SCRIPT_RUNNER, standard_script("drift")],
        args=["--baseline", baseline.path, "--current", current.path, "--metric", "psi",
              "--threshold", "0.2", "--report", report.path, "--metrics", metrics],
    )  # fmt: skip


@dsl.container_component
def notify(run_date: str):
    return dsl.ContainerSpec(
        image="curlimages/curl:8.8.0",
        command=["sh", "-c", ENV_RUNNER, "pipespec-env", f"RUN_DATE={run_date}", "--",
                 "sh", "-c", NOTIFY],
    )  # fmt: skip


def _retry(task: dsl.PipelineTask, max_duration: str = "7800s") -> dsl.PipelineTask:
    """retries 1 after 5m (of 1h each unless the step says)."""
    return task.set_retry(
        1, backoff_duration="300s", backoff_factor=1.0, backoff_max_duration=max_duration
    )


def _step(task: dsl.PipelineTask, *, retries: int = 1, cpu: str = "1", memory: str = "2Gi"):
    """defaults: retries 1 after 5m, 1 CPU and 2Gi, LOG_LEVEL in env."""
    if retries:
        _retry(task)
    task.set_cpu_request(cpu).set_memory_request(memory).set_memory_limit(memory)
    for name, value in ENV.items():
        task.set_env_variable(name, value)
    return task


@dsl.pipeline(
    name="demand-forecast",
    description="Daily demand forecasting per region: ingest, build features per region "
    "(fan-out),\ntune and train a LightGBM regressor, gate the deploy on the evaluation, "
    "then monitor.\n",
    pipeline_root="gs://acme-forecast/vertex",
)
def pipeline(
    regions: list = ["eu", "us", "apac"],  # noqa: B006 (kfp reads the default)
    max_rmse: float = 12.5,
    run_date: str = "2024-01-01",
    full_refresh: bool = False,
):
    """Daily demand forecasting.

    Args:
        regions: Regions to build features for
    """
    raw = _step(ingest(run_date=run_date))
    with dsl.ParallelFor(items=regions) as region:
        per_region = features(region=region, raw=raw.outputs["raw"], full_refresh=full_refresh)
        _step(per_region, cpu="2", memory="4Gi")
    data = _step(split(data=raw.outputs["raw"])).after(per_region)
    tuned = _retry(tune_job(train=data.outputs["train"]), "22200s")  # 2 tries x 3h + 5m
    values = train_values(best=tuned.outputs["metrics"]).set_display_name("train-values")
    values.set_caching_options(False).after(data)
    model = _retry(train_job(train=data.outputs["train"], values=values.outputs["values"]))
    scores = _step(evaluate(model=model.outputs["model"], test=data.outputs["test"]))
    # `rmse <= max_rmse and not full_refresh`: dsl.If takes one comparison each.
    with dsl.If(scores.outputs["metrics_rmse"] <= max_rmse):  # noqa: SIM117
        with dsl.If(full_refresh == False):  # noqa: E712 (a pipeline channel, not a bool)
            # The model with the serving image the deploy names, on a new endpoint.
            deployed = endpoint_deploy(
                model.outputs["model"],
                SERVING_IMAGE,
                "demand-forecast",
                GCP,
                machine_type="n1-standard-4",
                min_replica_count=2,
                max_replica_count=8,
            )
            _retry(deployed)
            # `after:` a conditioned step: inside its dsl.If, where kfp lets them wait
            # (kfp_normal_form._gate_after_conditions).
            drift = monitor(baseline=data.outputs["train"], current=raw.outputs["raw"])
            watched = _step(drift).after(deployed)
            _step(notify(run_date=run_date), retries=0).after(watched)
