"""examples/showcase as a kfp DSL program: ingest with a secret, per-region features in a
loop over a list parameter, a split after every region's features, tune and train on a
GPU, the deploy gated on the RMSE and a flag (pipespec's applier putting the model on a
KServe InferenceService in its serving image), then pipespec's drift check and a
notification."""

from kfp import dsl, kubernetes

from tests.conformance.kfp_programs.common import (
    APPLIER_PROGRAM,
    ENV_RUNNER,
    HELPER_IMAGE,
    MODEL_URI_MARKER,
    SCRIPT_RUNNER,
    inference_service,
    set_env,
    standard_script,
)

IMAGE = "ghcr.io/acme/forecast:2.0.1"
SERVING_IMAGE = "ghcr.io/acme/forecast-serving:2.0.1"
CATALOG_IMAGE = "public.ecr.aws/sagemaker/sagemaker-distribution:4.4.1-cpu"
NOTIFY = 'echo "done: run for $RUN_DATE" && curl -fsS -X POST "$SLACK_WEBHOOK" -d "{\\"text\\": \\"forecast ok\\"}"'  # noqa: E501


@dsl.container_component
def ingest(run_date: str, raw: dsl.Output[dsl.Dataset]):
    return dsl.ContainerSpec(
        image=IMAGE,
        command=["python", "-m", "forecast.ingest", "--date", run_date, "--out", raw.path],
    )


@dsl.container_component
def features(
    region: str, raw: dsl.Input[dsl.Dataset], full_refresh: bool, data: dsl.Output[dsl.Dataset]
):
    return dsl.ContainerSpec(
        image=IMAGE,
        command=[
            "sh",
            "-c",
            ENV_RUNNER,
            "pipespec-env",
            f"FULL_REFRESH={full_refresh}",
            f"REGION={region}",
            "--",
            "python",
            "-m",
            "forecast.features",
            "--region",
            region,
            "--in",
            raw.path,
            "--out",
            data.path,
            "--home",
            "${HOME}",
            "--literal",
            "${not_a_placeholder}",
        ],
    )


@dsl.container_component
def split(
    data: dsl.Input[dsl.Dataset], train: dsl.Output[dsl.Dataset], test: dsl.Output[dsl.Dataset]
):
    return dsl.ContainerSpec(
        image=IMAGE,
        command=[
            "python",
            "-m",
            "forecast.split",
            "--in",
            data.path,
            "--train",
            train.path,
            "--test",
            test.path,
        ],
    )


@dsl.container_component
def tune(
    train: dsl.Input[dsl.Dataset], model: dsl.Output[dsl.Model], metrics: dsl.OutputPath(dict)
):
    return dsl.ContainerSpec(
        image=IMAGE,
        command=[
            "python",
            "-m",
            "forecast.tune",
            "--train",
            train.path,
            "--model",
            model.path,
            "--metrics",
            metrics,
        ],
    )


@dsl.container_component
def train(train: dsl.Input[dsl.Dataset], best: dict, model: dsl.Output[dsl.Model]):
    return dsl.ContainerSpec(
        image=IMAGE,
        command=[
            "python",
            "-m",
            "forecast.train",
            "--train",
            train.path,
            "--params",
            best,
            "--model",
            model.path,
        ],
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
        command=[
            "python",
            "-m",
            "forecast.evaluate",
            "--model",
            model.path,
            "--test",
            test.path,
            "--metrics",
            metrics,
        ],
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
    "demand-forecast",
    {
        "minReplicas": 2,
        "maxReplicas": 8,
        "containers": [
            {
                "name": "kserve-container",
                "image": SERVING_IMAGE,
                "env": [{"name": "STORAGE_URI", "value": MODEL_URI_MARKER}],
                "resources": {
                    "requests": {"cpu": "1", "memory": "2Gi"},
                    "limits": {"memory": "2Gi"},
                },
            }
        ],
    },
)


# pipespec's drift check: today's data against the training data.
@dsl.container_component
def monitor(
    baseline: dsl.Input[dsl.Dataset],
    current: dsl.Input[dsl.Dataset],
    report: dsl.Output[dsl.Artifact],
    metrics: dsl.OutputPath(dict),
):
    return dsl.ContainerSpec(
        image=CATALOG_IMAGE,
        command=["sh", "-c", SCRIPT_RUNNER, standard_script("drift")],
        args=["--baseline", baseline.path, "--current", current.path, "--metric", "psi",
              "--threshold", "0.2", "--report", report.path, "--metrics", metrics],
    )  # fmt: skip


@dsl.container_component
def notify(run_date: str):
    return dsl.ContainerSpec(
        image="curlimages/curl:8.8.0",
        command=[
            "sh",
            "-c",
            ENV_RUNNER,
            "pipespec-env",
            f"RUN_DATE={run_date}",
            "--",
            "sh",
            "-c",
            NOTIFY,
        ],
    )


def _step(task: dsl.PipelineTask, *, retries: int = 1) -> dsl.PipelineTask:
    """defaults: retries 1 five minutes apart, timeout 1h, 1 CPU and 2Gi, LOG_LEVEL."""
    if retries:
        # pipespec bounds retrying by every try at its timeout plus the delay.
        bound = f"{(retries + 1) * (3600 + 300)}s"
        task.set_retry(
            num_retries=retries,
            backoff_duration="300s",
            backoff_factor=1.0,
            backoff_max_duration=bound,
        )
    task.set_cpu_request("1").set_memory_request("2Gi").set_memory_limit("2Gi")
    task.set_env_variable("LOG_LEVEL", "info")
    kubernetes.set_timeout(task, 3600)
    return task


@dsl.pipeline(
    name="demand-forecast",
    description="Daily demand forecasting per region: ingest, build features per region "
    "(fan-out),\ntune and train a LightGBM regressor, gate the deploy on the evaluation, "
    "then monitor.\n",
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
    kubernetes.use_secret_as_env(
        raw, secret_name="warehouse-creds", secret_key_to_env={"dsn": "WAREHOUSE_DSN"}
    )
    with dsl.ParallelFor(items=regions) as region:
        per_region = features(region=region, raw=raw.outputs["raw"], full_refresh=full_refresh)
        _step(per_region).set_cpu_request("2").set_memory_request("4Gi").set_memory_limit("4Gi")
    data = _step(split(data=raw.outputs["raw"])).after(per_region)
    tuned = _step(tune(train=data.outputs["train"]))
    kubernetes.set_timeout(tuned, 10800)
    tuned.set_retry(1, backoff_duration="300s", backoff_factor=1.0, backoff_max_duration="22200s")
    model = _step(train(train=data.outputs["train"], best=tuned.outputs["metrics"]))
    model.set_cpu_request("4").set_memory_request("16Gi").set_memory_limit("16Gi")
    model.set_accelerator_type("nvidia.com/gpu").set_accelerator_limit(1)
    kubernetes.add_node_selector(model, "nvidia.com/gpu.product", "NVIDIA-L4")
    kubernetes.add_toleration(model, key="nvidia.com/gpu", operator="Exists", effect="NoSchedule")
    scores = _step(evaluate(model=model.outputs["model"], test=data.outputs["test"]))
    # `rmse <= max_rmse and not full_refresh`: dsl.If takes one comparison each.
    with dsl.If(scores.outputs["metrics_rmse"] <= max_rmse):  # noqa: SIM117
        with dsl.If(full_refresh == False):  # noqa: E712 (a pipeline channel, not a bool)
            deployed = set_env(_step(deploy(model=model.outputs["model"])), SERVING)
            # `after:` a conditioned step: inside its dsl.If, where kfp lets them wait
            # (kfp_normal_form._gate_after_conditions).
            drift = monitor(baseline=data.outputs["train"], current=raw.outputs["raw"])
            watched = _step(drift).after(deployed)
            _step(notify(run_date=run_date), retries=0).after(watched)
