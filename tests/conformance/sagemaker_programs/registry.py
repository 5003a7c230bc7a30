"""examples/registry as a sagemaker SDK program: split (a processing job), train (a
training job on the catalog's XGBoost image for the region, running the catalog's train
script from the ``code`` channel), evaluate (a processing job; the packed model is
unpacked by pipespec's launcher), register (``Model.register`` in a ModelStep: a model
package in group ``churn``, pending approval, with the evaluation's metrics file) under a
ConditionStep on the AUC, and predict (a Model and a batch transform over the score set,
after the register)."""

from sagemaker.estimator import Estimator
from sagemaker.inputs import TrainingInput
from sagemaker.model import Model
from sagemaker.model_metrics import MetricsSource, ModelMetrics
from sagemaker.transformer import Transformer
from sagemaker.workflow.condition_step import ConditionStep
from sagemaker.workflow.conditions import ConditionGreaterThanOrEqualTo
from sagemaker.workflow.functions import Join, JsonGet
from sagemaker.workflow.model_step import ModelStep
from sagemaker.workflow.parameters import ParameterFloat
from sagemaker.workflow.pipeline import Pipeline
from sagemaker.workflow.properties import PropertyFile
from sagemaker.workflow.steps import ProcessingStep, TrainingStep, TransformStep

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

NAME = "churn-registry"
REGION = "eu-west-1"
BUCKET = default_bucket(REGION)
IMAGE = "ghcr.io/acme/churn:1.4.2"
SERVING_IMAGE = "ghcr.io/acme/churn-serving:1.4.2"
XGBOOST_IMAGE = "141502667606.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-xgboost:3.0-5"
INSTANCE = "ml.m5.large"  # 2 CPUs, 4 GiB
ENV = {"MLFLOW_TRACKING_URI": "http://mlflow.internal:5000"}
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
        env=ENV,
        unpack=[in_path("model")],  # the training job's model.tar.gz
    ),
}


def _split(session):
    argv = ["python", "-m", "churn.split"]
    for name in ("train", "test", "score"):
        argv += [f"--{name}", out_path(name)]
    job = processor(session, IMAGE, argv, instance_type=INSTANCE, env=ENV, max_runtime_s=3600)
    return ProcessingStep(
        name="split",
        step_args=job.run(
            outputs=[data_output(BUCKET, NAME, "split", o) for o in ("train", "test", "score")]
        ),
        retry_policies=retries(1),
    )


def _train(session, split):
    args = ["--framework", "xgboost", "--task", "binary_classification"]
    args += ["--train", channel("train"), "--model", MODEL_DIR]
    args += ["--hyperparameters", HYPERPARAMETERS_JSON]
    estimator = Estimator(
        image_uri=XGBOOST_IMAGE,
        role=ROLE,
        instance_count=1,
        instance_type=INSTANCE,
        output_path=run_location(BUCKET, NAME, "train", "model"),
        max_run=3600,
        hyperparameters=HYPERPARAMETERS,
        environment=ENV,
        container_entry_point=["python3", f"{TRAIN_CODE_DIR}/train.py"],
        container_arguments=args,
        sagemaker_session=session,
    )
    inputs = {
        "train": TrainingInput(s3_data=output_uri(split, "train")),
        "code": TrainingInput(s3_data=code_uri(BUCKET, DIGEST)),
    }
    return TrainingStep(name="train", step_args=estimator.fit(inputs), retry_policies=retries(1))


def _evaluate(session, split, model_data, metrics):
    job = processor(session, XGBOOST_IMAGE, LAUNCHER, instance_type=INSTANCE, max_runtime_s=3600)
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


def _register(session, model_data, evaluate):
    statistics = MetricsSource(
        content_type="application/json",
        s3_uri=Join(on="", values=[output_uri(evaluate, "metrics"), "/metrics.json"]),
    )
    model = Model(
        image_uri=SERVING_IMAGE, model_data=model_data, role=ROLE, sagemaker_session=session
    )
    return ModelStep(
        name="register",
        step_args=model.register(
            content_types=["text/csv"],
            response_types=["text/csv"],
            model_package_group_name="churn",
            approval_status="PendingManualApproval",
            model_metrics=ModelMetrics(model_statistics=statistics),
            customer_metadata_properties={"team": "growth"},
            description="Weekly churn model",
        ),
        retry_policies=retries(1, job=False),
        description="Weekly churn model",
    )


def _predict(session, model_data, split, register):
    model = Model(
        image_uri=SERVING_IMAGE,
        model_data=model_data,
        role=ROLE,
        env=ENV,
        sagemaker_session=session,
    )
    create = ModelStep(
        name="predict-model",
        step_args=model.create(instance_type=INSTANCE),
        retry_policies=retries(1, job=False),
        depends_on=[register],
    )
    transformer = Transformer(
        model_name=create.properties.ModelName,
        instance_type=INSTANCE,
        instance_count=1,
        output_path=run_location(BUCKET, NAME, "predict", "predictions"),
        accept="text/csv",
        assemble_with="Line",
        sagemaker_session=session,
    )
    transform = TransformStep(
        name="predict",
        step_args=transformer.transform(
            data=output_uri(split, "score"),
            content_type="text/csv",
            split_type="Line",
            join_source="Input",
        ),
        retry_policies=retries(1),
    )
    return [create, transform]


def build(session):
    min_auc = ParameterFloat(name="min_auc", default_value=0.8)
    split = _split(session)
    train = _train(session, split)
    model_data = train.properties.ModelArtifacts.S3ModelArtifacts
    metrics = PropertyFile(name="metrics", output_name="metrics", path="metrics.json")
    evaluate = _evaluate(session, split, model_data, metrics)
    register = _register(session, model_data, evaluate)
    auc = JsonGet(step_name="evaluate", property_file=metrics, json_path="auc")
    gate = ConditionStep(
        name="register-when",
        conditions=[ConditionGreaterThanOrEqualTo(left=auc, right=min_auc)],
        if_steps=[register],
    )
    return Pipeline(
        name=NAME,
        parameters=[min_auc],
        steps=[split, train, evaluate, gate, *_predict(session, model_data, split, register)],
        sagemaker_session=session,
    )
