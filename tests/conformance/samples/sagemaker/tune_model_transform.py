"""Tune, create a model from the best training job, batch-transform with it, register it.

Steps: TuningStep (HyperparameterTuner), ModelStep (Model.create -> a Model step),
TransformStep (Transformer), ModelStep (Model.register -> a RegisterModel step), with an
explicit DependsOn. ``build(session)`` is called by ``sagemaker_probe --build`` with an
offline ``PipelineSession``.
"""

from sagemaker.estimator import Estimator
from sagemaker.inputs import TrainingInput
from sagemaker.model import Model
from sagemaker.transformer import Transformer
from sagemaker.tuner import ContinuousParameter, HyperparameterTuner, IntegerParameter
from sagemaker.workflow.model_step import ModelStep
from sagemaker.workflow.parameters import ParameterString
from sagemaker.workflow.pipeline import Pipeline
from sagemaker.workflow.steps import TransformStep, TuningStep

ROLE = "arn:aws:iam::111122223333:role/SageMakerRole"
IMAGE = "111122223333.dkr.ecr.us-east-1.amazonaws.com/churn:1"


def build(session):
    data = ParameterString("TrainData", default_value="s3://my-bucket/train")
    estimator = Estimator(
        image_uri=IMAGE,
        role=ROLE,
        instance_count=1,
        instance_type="ml.m5.xlarge",
        output_path="s3://my-bucket/models",
        sagemaker_session=session,
    )
    tuner = HyperparameterTuner(
        estimator=estimator,
        objective_metric_name="validation:auc",
        metric_definitions=[{"Name": "validation:auc", "Regex": "auc=([0-9.]+)"}],
        hyperparameter_ranges={
            "eta": ContinuousParameter(0.01, 0.3),
            "max_depth": IntegerParameter(3, 9),
        },
        max_jobs=4,
        max_parallel_jobs=2,
    )
    tune = TuningStep(name="Tune", step_args=tuner.fit({"train": TrainingInput(s3_data=data)}))
    model = Model(
        image_uri=IMAGE,
        model_data=tune.get_top_model_s3_uri(top_k=0, s3_bucket="my-bucket", prefix="models"),
        role=ROLE,
        sagemaker_session=session,
    )
    create = ModelStep(name="CreateModel", step_args=model.create(instance_type="ml.m5.large"))
    transformer = Transformer(
        model_name=create.properties.ModelName,
        instance_count=1,
        instance_type="ml.m5.large",
        output_path="s3://my-bucket/scores",
        sagemaker_session=session,
    )
    transform = TransformStep(
        name="Score",
        step_args=transformer.transform(data="s3://my-bucket/batch", content_type="text/csv"),
        depends_on=[create],
    )
    register = ModelStep(
        name="Register",
        step_args=model.register(
            content_types=["text/csv"],
            response_types=["text/csv"],
            inference_instances=["ml.m5.large"],
            transform_instances=["ml.m5.large"],
            model_package_group_name="churn",
        ),
    )
    return Pipeline(
        name="churn-tuned",
        parameters=[data],
        steps=[tune, create, transform, register],
        sagemaker_session=session,
    )
