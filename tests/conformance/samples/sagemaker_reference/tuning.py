"""TuningStep: HyperparameterTuner over the built-in XGBoost, ranges, an objective metric with
a regex, strategy and job limits; get_top_model_s3_uri feeds the best model to a Model."""

from _offline import REGION, ROLE, session, show
from sagemaker import image_uris
from sagemaker.estimator import Estimator
from sagemaker.inputs import TrainingInput
from sagemaker.model import Model
from sagemaker.tuner import (
    CategoricalParameter,
    ContinuousParameter,
    HyperparameterTuner,
    IntegerParameter,
)
from sagemaker.workflow.model_step import ModelStep
from sagemaker.workflow.pipeline import Pipeline
from sagemaker.workflow.steps import TuningStep

sess = session()
image = image_uris.retrieve(framework="xgboost", region=REGION, version="1.7-1")
est = Estimator(
    image_uri=image,
    role=ROLE,
    instance_type="ml.m5.xlarge",
    instance_count=1,
    output_path="s3://my-bucket/tuning",
    hyperparameters={"objective": "binary:logistic", "num_round": 50},
    sagemaker_session=sess,
)
tuner = HyperparameterTuner(
    estimator=est,
    objective_metric_name="validation:auc",
    objective_type="Maximize",
    metric_definitions=[{"Name": "validation:auc", "Regex": "validation-auc:([0-9\\.]+)"}],
    hyperparameter_ranges={
        "eta": ContinuousParameter(0.01, 0.3, scaling_type="Logarithmic"),
        "max_depth": IntegerParameter(3, 10),
        "booster": CategoricalParameter(["gbtree", "dart"]),
    },
    strategy="Bayesian",
    max_jobs=8,
    max_parallel_jobs=2,
    early_stopping_type="Auto",
)
tune = TuningStep(
    name="Tune",
    step_args=tuner.fit(
        inputs={"train": TrainingInput("s3://my-bucket/train", content_type="text/csv")}
    ),
)
best = Model(
    image_uri=image,
    model_data=tune.get_top_model_s3_uri(top_k=0, s3_bucket="my-bucket", prefix="tuning"),
    role=ROLE,
    sagemaker_session=sess,
)
create = ModelStep(name="BestModel", step_args=best.create(instance_type="ml.m5.large"))

show(Pipeline(name="ref-tuning", steps=[tune, create], sagemaker_session=sess))
