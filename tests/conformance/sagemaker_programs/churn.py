"""examples/churn as a sagemaker SDK program: ingest (the catalog's SQL script through
pipespec's launcher, which reads the warehouse secret and the ``day`` parameter at
start), clean and features (the scripts pinned in examples/churn/scripts, as processing
jobs), train (a training job on the region's XGBoost image, on a T4 GPU instance), evaluate
(the packed model unpacked by the launcher), then, when the AUC clears ``min_auc``, deploy
(an XGBoostModel running pipespec's inference handler ``serve.py`` from a
``sourcedir.tar.gz``, an endpoint config named per execution, the endpoint
``churn-scorer``), and
monitor after the deploy (pipespec's standard drift check ``drift.py`` on the region's
scikit-learn image: PSI of the requests the endpoint logged under an S3 prefix against the
training split, a ``report`` folder and a ``metrics`` value). Every job tracks to MLflow
through the tracking server's and experiment's env."""

from sagemaker.estimator import Estimator
from sagemaker.inputs import TrainingInput
from sagemaker.workflow.condition_step import ConditionStep
from sagemaker.workflow.conditions import ConditionGreaterThanOrEqualTo
from sagemaker.workflow.endpoint_step import EndpointConfigStep, EndpointStep
from sagemaker.workflow.execution_variables import ExecutionVariables
from sagemaker.workflow.functions import Join, JsonGet
from sagemaker.workflow.model_step import ModelStep
from sagemaker.workflow.parameters import ParameterFloat, ParameterString
from sagemaker.workflow.pipeline import Pipeline
from sagemaker.workflow.properties import PropertyFile
from sagemaker.workflow.steps import ProcessingStep, TrainingStep
from sagemaker.xgboost.model import XGBoostModel

from tests.conformance.sagemaker_programs.common import (
    CODE_DIR,
    LAUNCHER,
    MODEL_DIR,
    PLAN,
    ROLE,
    TRAIN_CODE_DIR,
    channel,
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

NAME = "churn-retrain"
REGION = "eu-west-1"
BUCKET = default_bucket(REGION)
IMAGE = "ghcr.io/acme/churn:1.4.2"
XGBOOST_IMAGE = "141502667606.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-xgboost:3.0-5"
INSTANCE = "ml.m5.large"  # 2 CPUs, 4 GiB
GPU_INSTANCE = "ml.g4dn.xlarge"  # one NVIDIA T4
TIMEOUT_S = 7200
# tracking.mlflow: the server and the experiment, as MLflow's own env.
ENV = {"MLFLOW_TRACKING_URI": "http://mlflow.internal:5000", "MLFLOW_EXPERIMENT_NAME": "churn"}
# The catalog's image for pipespec's standard scripts (here drift.py) in this region.
SKLEARN_IMAGE = "141502667606.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-scikit-learn:1.9-0-cpu-py3"
REQUESTS = "s3://acme-ml/churn/requests/"  # where the endpoint's requests are logged
DIGEST = "0" * 64  # code folders: not compared
HYPERPARAMETERS = {
    "alpha": 0.0,
    "colsample_bytree": 0.8,
    "eta": 0.1,
    "eval_metric": "logloss",
    "lambda": 1.0,
    "max_depth": 6,
    "min_child_weight": 1.0,
    "num_round": 200,
    "objective": "binary:logistic",
    "seed": 42,
    "subsample": 0.8,
    "tree_method": "hist",
}
HYPERPARAMETERS_JSON = (
    '{"alpha":0.0,"colsample_bytree":0.8,"eta":0.1,"eval_metric":"logloss","lambda":1.0,'
    '"max_depth":6,"min_child_weight":1.0,"num_round":200,"objective":"binary:logistic",'
    '"seed":42,"subsample":0.8,"tree_method":"hist"}'
)


SQL = "SELECT * FROM events WHERE day = :day"
WAREHOUSE = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:warehouse"
PLANS = {
    "ingest": plan(
        [
            "python3",
            f"{CODE_DIR}/ingest_sql.py",
            "--query",
            SQL,
            "--out",
            out_path("raw"),
            "--param",
            "day={env:PIPESPEC_PARAM_day}",
        ],
        env=ENV,
        secrets={"PIPESPEC_DATABASE_URL": WAREHOUSE},
    ),
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
        env=ENV,
        unpack=[in_path("model")],  # the training job's model.tar.gz
    ),
}


def _job(session, image, entrypoint, **kwargs):
    return processor(
        session, image, entrypoint, instance_type=INSTANCE, max_runtime_s=TIMEOUT_S, **kwargs
    )


def _ingest(session, day):
    job = _job(session, IMAGE, LAUNCHER, env={"PIPESPEC_PARAM_day": day})
    return ProcessingStep(
        name="ingest",
        step_args=job.run(
            inputs=[code_folder(BUCKET, DIGEST)],
            outputs=[data_output(BUCKET, NAME, "ingest", "raw")],
            arguments=[PLAN],
        ),
        retry_policies=retries(2),
    )


def _script_step(session, name, script, source, outputs, description):
    argv = ["python3", f"{CODE_DIR}/{script}", "--input-data", in_path("data")]
    for output in outputs:
        flag = "--output-data" if output == "data" else f"--output-{output}"
        argv += [flag, out_path(output)]
    return ProcessingStep(
        name=name,
        step_args=_job(session, IMAGE, argv, env=ENV).run(
            inputs=[data_input("data", source), code_folder(BUCKET, DIGEST)],
            outputs=[data_output(BUCKET, NAME, name, o) for o in outputs],
        ),
        retry_policies=retries(2),
        description=description,
    )


def _train(session, features):
    args = ["--framework", "xgboost", "--task", "binary_classification"]
    args += ["--train", channel("train"), "--validation", channel("validation")]
    args += ["--model", MODEL_DIR, "--hyperparameters", HYPERPARAMETERS_JSON]
    estimator = Estimator(
        image_uri=XGBOOST_IMAGE,
        role=ROLE,
        instance_count=1,
        instance_type=GPU_INSTANCE,
        output_path=run_location(BUCKET, NAME, "train", "model"),
        max_run=TIMEOUT_S,
        hyperparameters=HYPERPARAMETERS,
        environment=ENV,
        container_entry_point=["python3", f"{TRAIN_CODE_DIR}/train.py"],
        container_arguments=args,
        sagemaker_session=session,
    )
    inputs = {
        "train": TrainingInput(s3_data=output_uri(features, "train")),
        "validation": TrainingInput(s3_data=output_uri(features, "validation")),
        "code": TrainingInput(s3_data=code_uri(BUCKET, DIGEST)),
    }
    return TrainingStep(name="train", step_args=estimator.fit(inputs), retry_policies=retries(2))


def _evaluate(session, features, model_data, metrics):
    inputs = [data_input("model", model_data), data_input("test", output_uri(features, "test"))]
    return ProcessingStep(
        name="evaluate",
        step_args=_job(session, XGBOOST_IMAGE, LAUNCHER).run(
            inputs=[*inputs, code_folder(BUCKET, DIGEST)],
            outputs=[data_output(BUCKET, NAME, "evaluate", "metrics")],
            arguments=[PLAN],
        ),
        property_files=[metrics],
        retry_policies=retries(2),
    )


def _deploy(session, model_data):
    # The catalog's XGBoost image in framework mode imports pipespec's inference handler
    # (serve.py) from sourcedir.tar.gz, as the SDK's framework model ships an entry point.
    model = XGBoostModel(
        image_uri=XGBOOST_IMAGE,
        model_data=model_data,
        role=ROLE,
        env=ENV,
        entry_point="serve.py",
        source_dir=f"{code_uri(BUCKET, DIGEST)}/sourcedir.tar.gz",
        framework_version="1.7-1",  # the SDK's; image_uri names the catalog's 3.0-5
        sagemaker_session=session,
    )
    create = ModelStep(
        name="deploy-model",
        step_args=model.create(instance_type="ml.m5.large"),
        retry_policies=retries(2, job=False),
    )
    config = EndpointConfigStep(
        name="deploy-config",
        step_args=session.create_endpoint_config(
            name=Join(on="-", values=["churn-scorer", ExecutionVariables.PIPELINE_EXECUTION_ID]),
            model_name=create.properties.ModelName,
            initial_instance_count=1,  # min_replicas; scaling to 4 is outside the pipeline
            instance_type="ml.m5.large",  # small
        ),
    )
    endpoint = EndpointStep(
        name="deploy",
        step_args=session.create_endpoint(
            endpoint_name="churn-scorer", config_name=config.properties.EndpointConfigName
        ),
    )
    return [create, config, endpoint]


def _monitor(session, features, endpoint):
    argv = ["python3", f"{CODE_DIR}/drift.py", "--baseline", in_path("baseline")]
    argv += ["--current-log", in_path("log"), "--metric", "psi", "--threshold", "0.2"]
    argv += ["--report", out_path("report"), "--metrics", value_path("metrics")]
    inputs = [data_input("baseline", output_uri(features, "train")), data_input("log", REQUESTS)]
    return ProcessingStep(
        name="monitor",
        step_args=_job(session, SKLEARN_IMAGE, argv, env=ENV).run(
            inputs=[*inputs, code_folder(BUCKET, DIGEST)],
            outputs=[data_output(BUCKET, NAME, "monitor", o) for o in ("report", "metrics")],
        ),
        property_files=[PropertyFile(name="metrics", output_name="metrics", path="metrics.json")],
        retry_policies=retries(2),
        depends_on=[endpoint],
    )


def build(session):
    min_auc = ParameterFloat(name="min_auc", default_value=0.82)
    regions = ParameterString(name="regions", default_value='["eu","us"]')  # a list, as JSON
    day = ParameterString(name="day", default_value="2024-01-01")
    ingest = _ingest(session, day)
    clean = _script_step(
        session,
        "clean",
        "clean.py",
        output_uri(ingest, "raw"),
        ["data"],
        "Drop duplicate customers and impute missing numeric values with the median",
    )
    features = _script_step(
        session,
        "features",
        "features.py",
        output_uri(clean, "data"),
        ["test", "train", "validation"],
        "One-hot encode categoricals, scale numerics, split train/validation/test",
    )
    train = _train(session, features)
    model_data = train.properties.ModelArtifacts.S3ModelArtifacts
    metrics = PropertyFile(name="metrics", output_name="metrics", path="metrics.json")
    evaluate = _evaluate(session, features, model_data, metrics)
    deploy = _deploy(session, model_data)
    auc = JsonGet(step_name="evaluate", property_file=metrics, json_path="auc")
    gate = ConditionStep(
        name="deploy-when",
        conditions=[ConditionGreaterThanOrEqualTo(left=auc, right=min_auc)],
        if_steps=deploy,
    )
    return Pipeline(
        name=NAME,
        parameters=[min_auc, regions, day],
        steps=[
            ingest,
            clean,
            features,
            train,
            evaluate,
            gate,
            _monitor(session, features, deploy[-1]),
        ],
        sagemaker_session=session,
    )
