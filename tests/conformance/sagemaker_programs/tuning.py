"""examples/tuning as a sagemaker SDK program: split (a processing job); tune (a
HyperparameterTuner over a scikit-learn framework estimator in script mode: pipespec's
trial runner ``pipespec_trial.py`` from ``sourcedir.tar.gz``, which runs the catalog's
train script with the trial's values and prints the objective for the metric regex;
Bayesian, 8 jobs, 4 at a time); ``tune-best`` (a processing job reading the best job's
output for its metrics and values); evaluate the best model; deploy it (a Model on the
spec's own ``serving_image``, which serves the LightGBM model itself, so no inference
handler ships with it; an endpoint config named per execution, the endpoint) under a
ConditionStep on the RMSE."""

from sagemaker.inputs import TrainingInput
from sagemaker.model import Model
from sagemaker.sklearn.estimator import SKLearn
from sagemaker.tuner import ContinuousParameter, HyperparameterTuner, IntegerParameter
from sagemaker.workflow.condition_step import ConditionStep
from sagemaker.workflow.conditions import ConditionLessThanOrEqualTo
from sagemaker.workflow.execution_variables import ExecutionVariables
from sagemaker.workflow.functions import Join, JsonGet
from sagemaker.workflow.model_step import ModelStep
from sagemaker.workflow.parameters import ParameterFloat
from sagemaker.workflow.pipeline import Pipeline
from sagemaker.workflow.properties import PropertyFile
from sagemaker.workflow.steps import ProcessingStep, TuningStep

from tests.conformance.sagemaker_programs.common import (
    CODE_DIR,
    LAUNCHER,
    PLAN,
    PREFIX,
    ROLE,
    code_folder,
    code_uri,
    data_input,
    data_output,
    default_bucket,
    in_path,
    out_path,
    output_uri,
    plan,
    processor,
    retries,
    run_location,
    value_path,
)

NAME = "house-prices"
REGION = "eu-west-1"
BUCKET = default_bucket(REGION)
IMAGE = "ghcr.io/acme/houses:0.3.0"
SKLEARN_IMAGE = "141502667606.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-scikit-learn:1.9-0-cpu-py3"
SERVING_IMAGE = "ghcr.io/acme/houses-serving:0.3.0"  # the spec's serving_image
# The catalog's scikit-learn image runs LightGBM once pipespec installs it at start.
REQUIREMENTS = (
    "python3 -m pip install --quiet --no-input --disable-pip-version-check "
    '$PIPESPEC_REQUIREMENTS && exec "$@"'
)
INSTANCE = "ml.m5.large"  # 2 CPUs, 4 GiB
DIGEST = "0" * 64  # code folders: not compared
# The trial runner prints "pipespec-metric NAME=VALUE" (pipespec/backends/sagemaker/tuning.py).
RMSE_REGEX = r"pipespec-metric rmse=([-+]?[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)"
# The catalog's LightGBM regression search space (pinned in pipeline.lock.json).
RANGES = {
    "colsample_bytree": ContinuousParameter(0.5, 1.0, scaling_type="Linear"),
    "learning_rate": ContinuousParameter(0.01, 0.3, scaling_type="Logarithmic"),
    "min_child_samples": IntegerParameter(5, 100, scaling_type="Logarithmic"),
    "n_estimators": IntegerParameter(100, 1000, scaling_type="Linear"),
    "num_leaves": IntegerParameter(15, 255, scaling_type="Logarithmic"),
    "reg_alpha": ContinuousParameter(0.001, 10.0, scaling_type="Logarithmic"),
    "reg_lambda": ContinuousParameter(0.001, 10.0, scaling_type="Logarithmic"),
    "subsample": ContinuousParameter(0.5, 1.0, scaling_type="Linear"),
}


PLANS = {
    "evaluate": plan(
        [
            "python3",
            f"{CODE_DIR}/evaluate.py",
            "--model",
            in_path("model"),
            "--test",
            in_path("test"),
            "--metrics",
            value_path("metrics"),
        ],
        unpack=[in_path("model")],  # the best training job's model.tar.gz
    ),
}


def _split(session):
    argv = ["python", "-m", "houses.split"]
    for name in ("train", "validation", "test"):
        argv += [f"--{name}", out_path(name)]
    job = processor(session, IMAGE, argv, instance_type=INSTANCE, max_runtime_s=3600)
    outputs = [data_output(BUCKET, NAME, "split", o) for o in ("train", "validation", "test")]
    return ProcessingStep(
        name="split", step_args=job.run(outputs=outputs), retry_policies=retries(1)
    )


def _tune(session, split):
    estimator = SKLearn(
        entry_point="pipespec_trial.py",
        source_dir=f"{code_uri(BUCKET, DIGEST)}/sourcedir.tar.gz",
        image_uri=SKLEARN_IMAGE,
        framework_version="1.2-1",
        role=ROLE,
        instance_count=1,
        instance_type=INSTANCE,
        output_path=run_location(BUCKET, NAME, "tune", "model"),
        max_run=3600,
        sagemaker_session=session,
    )
    tuner = HyperparameterTuner(
        estimator=estimator,
        objective_metric_name="rmse",
        objective_type="Minimize",
        metric_definitions=[{"Name": "rmse", "Regex": RMSE_REGEX}],
        hyperparameter_ranges=RANGES,
        strategy="Bayesian",
        max_jobs=8,
        max_parallel_jobs=4,
        early_stopping_type="Off",
    )
    inputs = {
        "train": TrainingInput(s3_data=output_uri(split, "train")),
        "validation": TrainingInput(s3_data=output_uri(split, "validation")),
    }
    return TuningStep(
        name="tune",
        step_args=tuner.fit(inputs),
        retry_policies=retries(1),
    )


def _best_job_file(tune, file):
    """``<output path>/<best job>/output/<file>``, where a training job leaves its files."""
    best = tune.properties.BestTrainingJob.TrainingJobName
    values = [f"s3://{BUCKET}", PREFIX, NAME, ExecutionVariables.PIPELINE_EXECUTION_ID]
    return Join(on="/", values=[*values, "tune", "model", best, "output", file])


def _best(session, tune, files):
    argv = ["python3", "/opt/ml/processing/input/code/pipespec_best.py"]
    argv += ["/opt/ml/processing/input/best"]
    for name in ("best_hyperparameters", "metrics"):
        argv += [f"{name}.json", f"/opt/ml/processing/output/{name}/{name}.json"]
    job = processor(session, SKLEARN_IMAGE, argv, max_runtime_s=3600)
    outputs = [
        data_output(BUCKET, NAME, "tune-best", o) for o in ("metrics", "best_hyperparameters")
    ]
    return ProcessingStep(
        name="tune-best",
        step_args=job.run(
            inputs=[
                data_input("best", _best_job_file(tune, "output.tar.gz")),
                code_folder(BUCKET, DIGEST),
            ],
            outputs=outputs,
        ),
        property_files=files,
        retry_policies=retries(1),
    )


def _evaluate(session, split, model_data, metrics):
    job = processor(
        session,
        SKLEARN_IMAGE,
        ["/bin/sh", "-c", REQUIREMENTS, "pipespec", *LAUNCHER],
        instance_type=INSTANCE,
        env={"PIPESPEC_REQUIREMENTS": "lightgbm==4.6.0"},
        max_runtime_s=3600,
    )
    inputs = [data_input("model", model_data), data_input("test", output_uri(split, "test"))]
    return ProcessingStep(
        name="evaluate",
        step_args=job.run(
            inputs=[*inputs, code_folder(BUCKET, DIGEST)],
            outputs=[data_output(BUCKET, NAME, "evaluate", "metrics")],
            arguments=[PLAN],
        ),
        property_files=[metrics],
        retry_policies=retries(1),
    )


def _deploy(session, model_data):
    from sagemaker.workflow.endpoint_step import EndpointConfigStep, EndpointStep

    # The spec names the image that serves its LightGBM model: a plain Model of it, with
    # no entry point (the image brings its own server).
    model = Model(
        image_uri=SERVING_IMAGE, model_data=model_data, role=ROLE, sagemaker_session=session
    )
    create = ModelStep(
        name="deploy-model",
        step_args=model.create(instance_type="ml.m5.large"),
        retry_policies=retries(1, job=False),
    )
    config = EndpointConfigStep(
        name="deploy-config",
        step_args=session.create_endpoint_config(
            name=Join(on="-", values=["house-prices", ExecutionVariables.PIPELINE_EXECUTION_ID]),
            model_name=create.properties.ModelName,
            initial_instance_count=1,
            instance_type="ml.m5.large",
        ),
    )
    endpoint = EndpointStep(
        name="deploy",
        step_args=session.create_endpoint(
            endpoint_name="house-prices", config_name=config.properties.EndpointConfigName
        ),
    )
    return [create, config, endpoint]


def build(session):
    max_rmse = ParameterFloat(name="max_rmse", default_value=50000.0)
    split = _split(session)
    tune = _tune(session, split)
    best_files = [
        PropertyFile(name="metrics", output_name="metrics", path="metrics.json"),
        PropertyFile(
            name="best_hyperparameters",
            output_name="best_hyperparameters",
            path="best_hyperparameters.json",
        ),
    ]
    best = _best(session, tune, best_files)
    model_data = _best_job_file(tune, "model.tar.gz")
    metrics = PropertyFile(name="metrics", output_name="metrics", path="metrics.json")
    evaluate = _evaluate(session, split, model_data, metrics)
    # A step after tune waits for all of it (the design's exits: tune-best too).
    evaluate.add_depends_on([best])
    rmse = JsonGet(step_name="evaluate", property_file=metrics, json_path="rmse")
    gate = ConditionStep(
        name="deploy-when",
        conditions=[ConditionLessThanOrEqualTo(left=rmse, right=max_rmse)],
        if_steps=_deploy(session, model_data),
    )
    return Pipeline(
        name=NAME,
        parameters=[max_rmse],
        steps=[split, tune, best, evaluate, gate],
        sagemaker_session=session,
    )
