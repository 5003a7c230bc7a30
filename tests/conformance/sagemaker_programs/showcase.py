"""examples/showcase as a sagemaker SDK program: ingest (its command through pipespec's
launcher: the warehouse secret and ``run_date`` at start); features unrolled over the
``regions`` param's default (``features-<i>``, the item in argv and env); split after every
copy; tune, whose command takes no trial values, as one trial (``tune-trial-0``) and
pipespec's select step; train (a training job running its own command through the
launcher, which reads the tune's metrics, on an L4 GPU instance); evaluate; deploy (Model,
endpoint config, endpoint: two instances of medium) when the RMSE is low enough and not a
full refresh: a Model on the ``serving_image`` the train step names, which serves the
model itself, so no inference handler ships with it); monitor after the deploy (pipespec's
standard drift check ``drift.py`` on the region's scikit-learn image: PSI of today's raw
data against the training split, a ``report`` folder and a ``metrics`` value); notify
after the monitor. Retries wait 5 minutes."""

from sagemaker.estimator import Estimator
from sagemaker.inputs import TrainingInput
from sagemaker.model import Model
from sagemaker.workflow.condition_step import ConditionStep
from sagemaker.workflow.conditions import (
    ConditionEquals,
    ConditionLessThanOrEqualTo,
    ConditionNot,
)
from sagemaker.workflow.endpoint_step import EndpointConfigStep, EndpointStep
from sagemaker.workflow.execution_variables import ExecutionVariables
from sagemaker.workflow.functions import Join, JsonGet
from sagemaker.workflow.model_step import ModelStep
from sagemaker.workflow.parameters import ParameterBoolean, ParameterFloat, ParameterString
from sagemaker.workflow.pipeline import Pipeline
from sagemaker.workflow.properties import PropertyFile
from sagemaker.workflow.steps import ProcessingStep, TrainingStep

from tests.conformance.sagemaker_programs.common import (
    CODE_DIR,
    LAUNCHER,
    PLAN,
    PREFIX,
    TRAIN_CODE_DIR,
    channel,
    code_folder,
    code_uri,
    data_input,
    in_path,
    out_path,
    output_uri,
    plan,
    processor,
    retries,
    value_path,
)

NAME = "demand-forecast"
REGION = "us-east-1"
BUCKET = "acme-forecast"
ROLE = "arn:aws:iam::123456789012:role/forecast-pipelines"
IMAGE = "ghcr.io/acme/forecast:2.0.1"
SERVING_IMAGE = "ghcr.io/acme/forecast-serving:2.0.1"  # the train step's serving_image
# The catalog's image for pipespec's standard scripts (here drift.py) in this region.
SKLEARN_IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.9-0-cpu-py3"
INSTANCE = "ml.m5.large"  # 2 CPUs, 4 GiB (the smallest M5: 1 CPU, 2 GiB fits it)
TIMEOUT_S = 3600
ENV = {"LOG_LEVEL": "info"}
REGIONS = ["eu", "us", "apac"]
DIGEST = "0" * 64  # code folders: not compared


WAREHOUSE = "arn:aws:secretsmanager:us-east-1:123456789012:secret:warehouse"
PLANS = {
    "ingest": plan(
        [
            "python",
            "-m",
            "forecast.ingest",
            "--date",
            "{env:PIPESPEC_PARAM_run_date}",
            "--out",
            out_path("raw"),
        ],
        env=ENV,
        secrets={"WAREHOUSE_DSN": WAREHOUSE},
    ),
    "train": plan(
        [
            "python",
            "-m",
            "forecast.train",
            "--train",
            channel("train"),
            "--params",
            "{file:" + channel("best") + "/metrics.json}",
            "--model",
            "/opt/ml/model",
        ],
        env=ENV,
    ),
    "evaluate": plan(
        [
            "python",
            "-m",
            "forecast.evaluate",
            "--model",
            in_path("model"),
            "--test",
            in_path("test"),
            "--metrics",
            value_path("metrics"),
        ],
        env=ENV,
        unpack=[in_path("model")],  # the training job's model.tar.gz
    ),
}


def _retries(job=True):
    return retries(1, job=job, delay_s=300)


def _job(session, argv, *, image=IMAGE, env=None, instance=INSTANCE, timeout_s=TIMEOUT_S):
    return processor(
        session,
        image,
        argv,
        instance_type=instance,
        env=env,
        max_runtime_s=timeout_s,
        role=ROLE,
    )


def _location(step, output):
    values = [f"s3://{BUCKET}", PREFIX, NAME, ExecutionVariables.PIPELINE_EXECUTION_ID]
    return Join(on="/", values=[*values, step, output])


def _outputs(step, names):
    from sagemaker.processing import ProcessingOutput

    return [
        ProcessingOutput(output_name=n, source=out_path(n), destination=_location(step, n))
        for n in names
    ]


def _ingest(session, run_date):
    job = _job(session, LAUNCHER, env={"PIPESPEC_PARAM_run_date": run_date})
    return ProcessingStep(
        name="ingest",
        step_args=job.run(
            inputs=[code_folder(BUCKET, DIGEST)],
            outputs=_outputs("ingest", ["raw"]),
            arguments=[PLAN],
        ),
        retry_policies=_retries(),
    )


def _features(session, ingest, full_refresh):
    copies = []
    for index, region in enumerate(REGIONS):
        name = f"features-{index}"
        argv = ["python", "-m", "forecast.features", "--region", region]
        argv += ["--in", in_path("raw"), "--out", out_path("data")]
        argv += ["--home", "${HOME}", "--literal", "${not_a_placeholder}"]
        # A Boolean parameter where text goes: joined into text.
        env = {**ENV, "REGION": region, "FULL_REFRESH": Join(on="", values=[full_refresh])}
        copies.append(
            ProcessingStep(
                name=name,
                step_args=_job(session, argv, env=env).run(
                    inputs=[data_input("raw", output_uri(ingest, "raw"))],
                    outputs=_outputs(name, ["data"]),
                ),
                retry_policies=_retries(),
                description="Per-region features; the template syntax {{ ds }} and $(date) "
                "reach the container verbatim",
            )
        )
    return copies


def _split(session, ingest, features):
    argv = ["python", "-m", "forecast.split", "--in", in_path("data")]
    argv += ["--train", out_path("train"), "--test", out_path("test")]
    return ProcessingStep(
        name="split",
        step_args=_job(session, argv, env=ENV).run(
            inputs=[data_input("data", output_uri(ingest, "raw"))],
            outputs=_outputs("split", ["train", "test"]),
        ),
        retry_policies=_retries(),
        depends_on=features,
    )


def _tune(session, split):
    argv = ["python", "-m", "forecast.tune", "--train", in_path("train")]
    argv += ["--model", out_path("model"), "--metrics", value_path("metrics")]
    metrics = PropertyFile(name="metrics", output_name="metrics", path="metrics.json")
    trial = ProcessingStep(
        name="tune-trial-0",
        step_args=_job(session, argv, env=ENV, timeout_s=10800).run(
            inputs=[data_input("train", output_uri(split, "train"))],
            outputs=_outputs("tune/trials/0", ["model", "metrics"]),
        ),
        property_files=[metrics],
        retry_policies=_retries(),
    )
    select = ["python3", f"{CODE_DIR}/pipespec_select.py", f"{CODE_DIR}/plan.json"]
    best = PropertyFile(
        name="best_hyperparameters",
        output_name="best_hyperparameters",
        path="best_hyperparameters.json",
    )
    pick = ProcessingStep(
        name="tune",
        step_args=_job(session, select, instance="ml.m5.xlarge").run(
            inputs=[
                data_input("trials", _location("tune", "trials")),
                code_folder(BUCKET, DIGEST),
            ],
            outputs=_outputs("tune", ["model", "metrics", "best_hyperparameters"]),
        ),
        property_files=[metrics, best],
        retry_policies=_retries(),
        depends_on=[trial],
    )
    return trial, pick


def _train(session, split, tune):
    estimator = Estimator(
        image_uri=IMAGE,
        role=ROLE,
        instance_count=1,
        instance_type="ml.g6.xlarge",  # 4 CPUs, 16 GiB, one NVIDIA L4
        output_path=_location("train", "model"),
        max_run=TIMEOUT_S,
        hyperparameters={"num_leaves": 64, "learning_rate": 0.05},
        container_entry_point=["python3", f"{TRAIN_CODE_DIR}/pipespec_launch.py"],
        container_arguments=[f"{TRAIN_CODE_DIR}/launch.json"],  # --params reads a value
        sagemaker_session=session,
    )
    inputs = {
        "train": TrainingInput(s3_data=output_uri(split, "train")),
        "best": TrainingInput(s3_data=output_uri(tune, "metrics")),
        "code": TrainingInput(s3_data=code_uri(BUCKET, DIGEST)),
    }
    return TrainingStep(name="train", step_args=estimator.fit(inputs), retry_policies=_retries())


def _evaluate(session, split, model_data, metrics):
    inputs = [data_input("model", model_data), data_input("test", output_uri(split, "test"))]
    return ProcessingStep(
        name="evaluate",
        step_args=_job(session, LAUNCHER).run(
            inputs=[*inputs, code_folder(BUCKET, DIGEST)],
            outputs=_outputs("evaluate", ["metrics"]),
            arguments=[PLAN],
        ),
        property_files=[metrics],
        retry_policies=_retries(),
    )


def _deploy(session, model_data):
    model = Model(
        image_uri=SERVING_IMAGE,
        model_data=model_data,
        role=ROLE,
        env=ENV,
        sagemaker_session=session,
    )
    create = ModelStep(
        name="deploy-model",
        step_args=model.create(instance_type="ml.m5.xlarge"),
        retry_policies=_retries(job=False),
    )
    config = EndpointConfigStep(
        name="deploy-config",
        step_args=session.create_endpoint_config(
            name=Join(on="-", values=["demand-forecast", ExecutionVariables.PIPELINE_EXECUTION_ID]),
            model_name=create.properties.ModelName,
            initial_instance_count=2,  # min_replicas; scaling to 8 is outside the pipeline
            instance_type="ml.m5.xlarge",  # medium
        ),
    )
    endpoint = EndpointStep(
        name="deploy",
        step_args=session.create_endpoint(
            endpoint_name="demand-forecast", config_name=config.properties.EndpointConfigName
        ),
    )
    return [create, config, endpoint]


def _monitor(session, ingest, split, endpoint):
    argv = ["python3", f"{CODE_DIR}/drift.py", "--baseline", in_path("baseline")]
    argv += ["--current", in_path("current"), "--metric", "psi", "--threshold", "0.2"]
    argv += ["--report", out_path("report"), "--metrics", value_path("metrics")]
    inputs = [
        data_input("baseline", output_uri(split, "train")),
        data_input("current", output_uri(ingest, "raw")),
    ]
    return ProcessingStep(
        name="monitor",
        step_args=_job(session, argv, image=SKLEARN_IMAGE, env=ENV).run(
            inputs=[*inputs, code_folder(BUCKET, DIGEST)],
            outputs=_outputs("monitor", ["report", "metrics"]),
        ),
        property_files=[PropertyFile(name="metrics", output_name="metrics", path="metrics.json")],
        retry_policies=_retries(),
        depends_on=[endpoint],
    )


def _notify(session, run_date, monitor):
    script = (
        'echo "done: run for $RUN_DATE" && '
        'curl -fsS -X POST "$SLACK_WEBHOOK" -d "{\\"text\\": \\"forecast ok\\"}"'
    )
    env = {**ENV, "RUN_DATE": run_date}
    return ProcessingStep(
        name="notify",
        step_args=_job(session, ["sh", "-c", script], image="curlimages/curl:8.8.0", env=env).run(),
        depends_on=[monitor],
    )


def build(session):
    regions = ParameterString(name="regions", default_value='["eu","us","apac"]')
    max_rmse = ParameterFloat(name="max_rmse", default_value=12.5)
    run_date = ParameterString(name="run_date", default_value="2024-01-01")
    full_refresh = ParameterBoolean(name="full_refresh", default_value=False)
    ingest = _ingest(session, run_date)
    features = _features(session, ingest, full_refresh)
    split = _split(session, ingest, features)
    trial, tune = _tune(session, split)
    train = _train(session, split, tune)
    model_data = train.properties.ModelArtifacts.S3ModelArtifacts
    metrics = PropertyFile(name="metrics", output_name="metrics", path="metrics.json")
    evaluate = _evaluate(session, split, model_data, metrics)
    deploy = _deploy(session, model_data)
    rmse = JsonGet(step_name="evaluate", property_file=metrics, json_path="rmse")
    gate = ConditionStep(
        name="deploy-when",
        conditions=[
            ConditionLessThanOrEqualTo(left=rmse, right=max_rmse),
            ConditionNot(expression=ConditionEquals(left=full_refresh, right=True)),
        ],
        if_steps=deploy,
    )
    monitor = _monitor(session, ingest, split, deploy[-1])
    return Pipeline(
        name=NAME,
        parameters=[regions, max_rmse, run_date, full_refresh],
        steps=[
            ingest,
            *features,
            split,
            trial,
            tune,
            train,
            evaluate,
            gate,
            monitor,
            _notify(session, run_date, monitor),
        ],
        sagemaker_session=session,
    )
