"""TrainingStep: built-in XGBoost (image_uris.retrieve, eu-west-1) fed by a processing output,
and a framework estimator (SKLearn) with a local entry_point."""

from _offline import REGION, ROLE, session, show
from sagemaker import image_uris
from sagemaker.estimator import Estimator
from sagemaker.inputs import TrainingInput
from sagemaker.processing import ProcessingOutput, ScriptProcessor
from sagemaker.sklearn.estimator import SKLearn
from sagemaker.workflow.parameters import ParameterFloat
from sagemaker.workflow.pipeline import Pipeline
from sagemaker.workflow.steps import ProcessingStep, TrainingStep

sess = session()
eta = ParameterFloat(name="Eta", default_value=0.2)

prep = ProcessingStep(
    name="Prep",
    step_args=ScriptProcessor(
        image_uri="111122223333.dkr.ecr.eu-west-1.amazonaws.com/prep:latest",
        command=["python3"],
        role=ROLE,
        instance_type="ml.m5.xlarge",
        instance_count=1,
        sagemaker_session=sess,
    ).run(
        code="s3://my-bucket/code/preprocess.py",  # an S3 code URI is used as is, no upload
        outputs=[ProcessingOutput(output_name="train", source="/opt/ml/processing/train")],
    ),
)

image = image_uris.retrieve(framework="xgboost", region=REGION, version="1.7-1")
xgb = Estimator(
    image_uri=image,
    role=ROLE,
    instance_type="ml.m5.xlarge",
    instance_count=1,
    output_path="s3://my-bucket/models",
    hyperparameters={"objective": "binary:logistic", "num_round": 50},
    sagemaker_session=sess,
)
xgb.set_hyperparameters(eta=eta)
train_xgb = TrainingStep(
    name="TrainXGB",
    step_args=xgb.fit(
        inputs={
            "train": TrainingInput(
                s3_data=prep.properties.ProcessingOutputConfig.Outputs["train"].S3Output.S3Uri,
                content_type="text/csv",
            )
        }
    ),
)

sk = SKLearn(
    entry_point="train.py",
    source_dir="code",
    framework_version="1.2-1",
    py_version="py3",
    role=ROLE,
    instance_type="ml.m5.xlarge",
    hyperparameters={"max_depth": 5},
    environment={"MODE": "full"},
    sagemaker_session=sess,
)
train_sk = TrainingStep(
    name="TrainSK",
    step_args=sk.fit(
        inputs={
            "train": TrainingInput(
                s3_data=prep.properties.ProcessingOutputConfig.Outputs["train"].S3Output.S3Uri
            )
        }
    ),
)

show(
    Pipeline(
        name="ref-training",
        parameters=[eta],
        steps=[prep, train_xgb, train_sk],
        sagemaker_session=sess,
    )
)
