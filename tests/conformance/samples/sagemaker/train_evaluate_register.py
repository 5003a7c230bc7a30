"""Process, train, evaluate; register the model if its accuracy is high enough, else fail.

Steps: ProcessingStep (ScriptProcessor), TrainingStep (Estimator), ProcessingStep with a
PropertyFile, ConditionStep on JsonGet whose branches hold RegisterModel and a ModelStep
(Model.create: a Model step inside a condition, as AWS's abalone example has it), FailStep.
``build(session)`` is called by ``sagemaker_probe --build`` with an offline
``PipelineSession``.
"""

from sagemaker.estimator import Estimator
from sagemaker.inputs import TrainingInput
from sagemaker.model import Model
from sagemaker.processing import ProcessingInput, ProcessingOutput, ScriptProcessor
from sagemaker.workflow.condition_step import ConditionStep
from sagemaker.workflow.conditions import ConditionGreaterThanOrEqualTo
from sagemaker.workflow.fail_step import FailStep
from sagemaker.workflow.functions import Join, JsonGet
from sagemaker.workflow.model_step import ModelStep
from sagemaker.workflow.parameters import ParameterFloat, ParameterInteger, ParameterString
from sagemaker.workflow.pipeline import Pipeline
from sagemaker.workflow.properties import PropertyFile
from sagemaker.workflow.retry import (
    SageMakerJobExceptionTypeEnum,
    SageMakerJobStepRetryPolicy,
    StepExceptionTypeEnum,
    StepRetryPolicy,
)
from sagemaker.workflow.step_collections import RegisterModel
from sagemaker.workflow.steps import ProcessingStep, TrainingStep

ROLE = "arn:aws:iam::111122223333:role/SageMakerRole"
IMAGE = "111122223333.dkr.ecr.us-east-1.amazonaws.com/churn:1"


def build(session):
    instance_type = ParameterString("InstanceType", default_value="ml.m5.xlarge")
    epochs = ParameterInteger("Epochs", default_value=10)
    threshold = ParameterFloat("MinAccuracy", default_value=0.8)
    processor = ScriptProcessor(
        image_uri=IMAGE,
        command=["python3"],
        role=ROLE,
        instance_count=1,
        instance_type=instance_type,
        sagemaker_session=session,
    )
    prep = ProcessingStep(
        name="Prep",
        step_args=processor.run(
            code="s3://my-bucket/code/prep.py",
            inputs=[
                ProcessingInput(source="s3://my-bucket/raw", destination="/opt/ml/processing/in")
            ],
            outputs=[ProcessingOutput(output_name="train", source="/opt/ml/processing/train")],
        ),
        retry_policies=[
            StepRetryPolicy(exception_types=[StepExceptionTypeEnum.THROTTLING], max_attempts=3),
            SageMakerJobStepRetryPolicy(
                exception_types=[SageMakerJobExceptionTypeEnum.CAPACITY_ERROR], max_attempts=2
            ),
        ],
    )
    estimator = Estimator(
        image_uri=IMAGE,
        role=ROLE,
        instance_count=1,
        instance_type=instance_type,
        output_path="s3://my-bucket/models",
        hyperparameters={"epochs": epochs},
        sagemaker_session=session,
    )
    train_data = prep.properties.ProcessingOutputConfig.Outputs["train"].S3Output.S3Uri
    train = TrainingStep(
        name="Train",
        step_args=estimator.fit({"train": TrainingInput(s3_data=train_data)}),
    )
    report = PropertyFile(name="Metrics", output_name="metrics", path="metrics.json")
    evaluate = ProcessingStep(
        name="Evaluate",
        step_args=processor.run(
            code="s3://my-bucket/code/evaluate.py",
            inputs=[
                ProcessingInput(
                    source=train.properties.ModelArtifacts.S3ModelArtifacts,
                    destination="/opt/ml/processing/model",
                )
            ],
            outputs=[ProcessingOutput(output_name="metrics", source="/opt/ml/processing/metrics")],
        ),
        property_files=[report],
    )
    register = RegisterModel(
        name="Register",
        estimator=estimator,
        model_data=train.properties.ModelArtifacts.S3ModelArtifacts,
        content_types=["text/csv"],
        response_types=["text/csv"],
        inference_instances=["ml.m5.large"],
        transform_instances=["ml.m5.large"],
        model_package_group_name="churn",
        approval_status="PendingManualApproval",
    )
    model = Model(
        image_uri=IMAGE,
        model_data=train.properties.ModelArtifacts.S3ModelArtifacts,
        role=ROLE,
        sagemaker_session=session,
    )
    create = ModelStep(name="CreateModel", step_args=model.create(instance_type="ml.m5.large"))
    fail = FailStep(
        name="TooInaccurate",
        error_message=Join(on=" ", values=["accuracy below", threshold]),
    )
    accuracy = JsonGet(step_name=evaluate.name, property_file=report, json_path="accuracy")
    check = ConditionStep(
        name="CheckAccuracy",
        conditions=[ConditionGreaterThanOrEqualTo(left=accuracy, right=threshold)],
        if_steps=[register, create],
        else_steps=[fail],
    )
    return Pipeline(
        name="churn",
        parameters=[instance_type, epochs, threshold],
        steps=[prep, train, evaluate, check],
        sagemaker_session=session,
    )
