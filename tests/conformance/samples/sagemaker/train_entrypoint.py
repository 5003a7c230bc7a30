"""A training job that runs its own command: the Estimator's container_entry_point and
container_arguments (AlgorithmSpecification.ContainerEntrypoint/ContainerArguments) and
environment (Environment), as pipespec writes a ``train`` step; its model read by a
processing step.

``build(session)`` is called by ``sagemaker_probe --build`` with an offline
``PipelineSession``.
"""

from sagemaker.estimator import Estimator
from sagemaker.inputs import TrainingInput
from sagemaker.processing import ProcessingInput, ScriptProcessor
from sagemaker.workflow.parameters import ParameterFloat
from sagemaker.workflow.pipeline import Pipeline
from sagemaker.workflow.steps import ProcessingStep, TrainingStep

ROLE = "arn:aws:iam::111122223333:role/SageMakerRole"
IMAGE = "111122223333.dkr.ecr.us-east-1.amazonaws.com/trainer:1"


def build(session):
    rate = ParameterFloat("LearningRate", default_value=0.1)
    estimator = Estimator(
        image_uri=IMAGE,
        role=ROLE,
        instance_count=1,
        instance_type="ml.m5.xlarge",
        output_path="s3://my-bucket/models",
        container_entry_point=["python3", "/opt/ml/input/data/code/train.py"],
        container_arguments=["--data", "/opt/ml/input/data/train", "--model", "/opt/ml/model"],
        environment={"MODE": "full"},
        hyperparameters={"lr": rate},
        disable_profiler=True,
        sagemaker_session=session,
    )
    train = TrainingStep(
        name="Train",
        step_args=estimator.fit(
            {
                "train": TrainingInput(s3_data="s3://my-bucket/train"),
                "code": TrainingInput(s3_data="s3://my-bucket/code/abc"),
            }
        ),
    )
    processor = ScriptProcessor(
        image_uri=IMAGE,
        command=["python3"],
        role=ROLE,
        instance_count=1,
        instance_type="ml.m5.xlarge",
        sagemaker_session=session,
    )
    score = ProcessingStep(
        name="Score",
        step_args=processor.run(
            code="s3://my-bucket/code/score.py",
            inputs=[
                ProcessingInput(
                    source=train.properties.ModelArtifacts.S3ModelArtifacts,
                    destination="/opt/ml/processing/input/model",
                )
            ],
        ),
    )
    return Pipeline(
        name="own-trainer",
        parameters=[rate],
        steps=[train, score],
        sagemaker_session=session,
    )
