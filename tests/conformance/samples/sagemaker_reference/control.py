"""DependsOn, RetryPolicies (StepRetryPolicy and SageMakerJobStepRetryPolicy), CacheConfig,
display name/description, and Std:Join; the processing outputs name their S3 URI."""

from _offline import ROLE, session, show
from sagemaker.processing import ProcessingOutput, ScriptProcessor
from sagemaker.workflow.execution_variables import ExecutionVariables
from sagemaker.workflow.functions import Join
from sagemaker.workflow.parameters import ParameterString
from sagemaker.workflow.pipeline import Pipeline
from sagemaker.workflow.retry import (
    SageMakerJobExceptionTypeEnum,
    SageMakerJobStepRetryPolicy,
    StepExceptionTypeEnum,
    StepRetryPolicy,
)
from sagemaker.workflow.steps import CacheConfig, ProcessingStep

sess = session()
prefix = ParameterString(name="Prefix", default_value="runs")


def processor() -> ScriptProcessor:
    return ScriptProcessor(
        image_uri="111122223333.dkr.ecr.eu-west-1.amazonaws.com/prep:latest",
        command=["python3"],
        role=ROLE,
        instance_type="ml.m5.xlarge",
        instance_count=1,
        sagemaker_session=sess,
    )


out_uri = Join(on="/", values=["s3://my-bucket", prefix, ExecutionVariables.PIPELINE_EXECUTION_ID])
first = ProcessingStep(
    name="First",
    display_name="First step",
    description="writes data",
    step_args=processor().run(
        code="s3://my-bucket/code/a.py",
        outputs=[
            ProcessingOutput(
                output_name="data", source="/opt/ml/processing/data", destination=out_uri
            )
        ],
    ),
    cache_config=CacheConfig(enable_caching=True, expire_after="P30D"),
    retry_policies=[
        StepRetryPolicy(
            exception_types=[StepExceptionTypeEnum.SERVICE_FAULT, StepExceptionTypeEnum.THROTTLING],
            interval_seconds=10,
            backoff_rate=2.0,
            max_attempts=3,
        ),
        SageMakerJobStepRetryPolicy(
            exception_types=[
                SageMakerJobExceptionTypeEnum.INTERNAL_ERROR,
                SageMakerJobExceptionTypeEnum.CAPACITY_ERROR,
            ],
            failure_reason_types=None,
            interval_seconds=30,
            max_attempts=2,
        ),
        SageMakerJobStepRetryPolicy(
            exception_types=[SageMakerJobExceptionTypeEnum.RESOURCE_LIMIT],
            expire_after_mins=60,
        ),
    ],
)
second = ProcessingStep(
    name="Second",
    step_args=processor().run(code="s3://my-bucket/code/b.py"),
    depends_on=[first],  # a Step, or its name as a string
)
third = ProcessingStep(
    name="Third",
    step_args=processor().run(code="s3://my-bucket/code/c.py"),
    depends_on=["First", second],
)
show(
    Pipeline(
        name="ref-control",
        parameters=[prefix],
        steps=[first, second, third],
        sagemaker_session=sess,
    )
)
