"""What the SDK programs share: the examples' SageMaker options as the programs' own
constants, the local paths of a processing job's inputs and outputs, and the layout of a
run's outputs on S3 (docs/dev/sagemaker-definition.md; the backend design: outputs under
``s3://BUCKET/PREFIX/PIPELINE/<execution id>/<step>/<output>``).

Runs in the sagemaker conformance venv only (the SDK is not installed elsewhere).
"""

from typing import Any

from sagemaker.processing import ProcessingInput, ProcessingOutput, Processor
from sagemaker.workflow.execution_variables import ExecutionVariables
from sagemaker.workflow.functions import Join

ROLE = "arn:aws:iam::123456789012:role/pipelines"
PREFIX = "pipespec"
INSTANCE_TYPE = "ml.m5.xlarge"
INPUT_ROOT = "/opt/ml/processing/input"
OUTPUT_ROOT = "/opt/ml/processing/output"


def default_bucket(region: str, role: str = ROLE) -> str:
    """The SDK's default bucket name: ``sagemaker-<region>-<account>``."""
    return f"sagemaker-{region}-{role.split(':')[4]}"


def run_location(bucket: str, pipeline: str, step: str, output: str) -> Join:
    """Where a step's output goes in one run (a folder per execution)."""
    values = [f"s3://{bucket}", PREFIX, pipeline, ExecutionVariables.PIPELINE_EXECUTION_ID]
    return Join(on="/", values=[*values, step, output])


def in_path(name: str) -> str:
    return f"{INPUT_ROOT}/{name}"


def out_path(name: str) -> str:
    return f"{OUTPUT_ROOT}/{name}"


def value_path(name: str) -> str:
    """A value output is the JSON file ``<name>.json`` in its output folder."""
    return f"{OUTPUT_ROOT}/{name}/{name}.json"


def data_input(name: str, source: Any) -> ProcessingInput:
    return ProcessingInput(source=source, destination=in_path(name), input_name=name)


def data_output(bucket: str, pipeline: str, step: str, name: str) -> ProcessingOutput:
    return ProcessingOutput(
        output_name=name,
        source=out_path(name),
        destination=run_location(bucket, pipeline, step, name),
    )


def processor(
    session: Any,
    image: str,
    entrypoint: list[Any],
    *,
    instance_type: Any = INSTANCE_TYPE,
    instance_count: Any = 1,
    env: dict[str, Any] | None = None,
    max_runtime_s: int | None = None,
    role: str = ROLE,
) -> Processor:
    return Processor(
        role=role,
        image_uri=image,
        entrypoint=entrypoint,
        instance_count=instance_count,
        instance_type=instance_type,
        env=env,
        max_runtime_in_seconds=max_runtime_s,
        sagemaker_session=session,
    )


def output_uri(step: Any, name: str) -> Any:
    """A processing step's output as a later step reads it."""
    return step.properties.ProcessingOutputConfig.Outputs[name].S3Output.S3Uri


# pipespec's launcher (pipespec/backends/sagemaker/launch.py): a fixed program uploaded
# with a plan beside it, in one content-keyed code folder mounted at the code input; a
# step runs through it when it needs something at start (secrets, reported values).
CODE_DIR = f"{INPUT_ROOT}/code"
LAUNCHER = ["python3", f"{CODE_DIR}/pipespec_launch.py"]
PLAN = f"{CODE_DIR}/launch.json"


def plan(
    argv: list[str],
    env: dict[str, str] | None = None,
    secrets: dict[str, str] | None = None,
    unpack: list[str] | None = None,
) -> dict[str, Any]:
    """What a launched step runs (its ``launch.json``), readably: argv and env as text
    with ``{env:NAME}`` (a parameter passed in the job's environment), ``{file:PATH}``
    (the JSON text of a value another step reported), ``{files:P1,P2}`` (several, as one
    JSON list); the secrets' Secrets Manager ARNs by env name; folders whose
    ``model.tar.gz`` is unpacked first."""
    return {
        "argv": argv,
        "env": env or {},
        "secrets": secrets or {},
        "unpack": sorted(unpack or []),
    }


def code_folder(bucket: str, digest: str) -> ProcessingInput:
    """The code folder ``s3://BUCKET/PREFIX/code/<digest>`` as the job's ``code`` input
    (the digest is of the folder's files: the normal form does not compare it)."""
    source = f"s3://{bucket}/{PREFIX}/code/{digest}"
    return ProcessingInput(source=source, destination=CODE_DIR, input_name="code")


# A training job's paths (pipespec/backends/sagemaker/training.py): channel x at
# /opt/ml/input/data/x, the model folder /opt/ml/model, a script in the channel ``code``.
CHANNEL_ROOT = "/opt/ml/input/data"
MODEL_DIR = "/opt/ml/model"
TRAIN_CODE_DIR = f"{CHANNEL_ROOT}/code"


def channel(name: str) -> str:
    return f"{CHANNEL_ROOT}/{name}"


def code_uri(bucket: str, digest: str) -> str:
    return f"s3://{bucket}/{PREFIX}/code/{digest}"


def retries(attempts: int, job: bool = True, delay_s: int | None = None) -> list[Any]:
    """A step's ``retries: N``: SageMaker retries the service's faults and, for a job, the
    job's own (a container's failure is not retried); 1 s doubling when no delay is set,
    else the delay, fixed."""
    from sagemaker.workflow.retry import (
        SageMakerJobExceptionTypeEnum,
        SageMakerJobStepRetryPolicy,
        StepExceptionTypeEnum,
        StepRetryPolicy,
    )

    timing: dict[str, Any] = {"max_attempts": attempts}
    if delay_s is not None:
        timing.update(interval_seconds=delay_s, backoff_rate=1.0)
    policies: list[Any] = [
        StepRetryPolicy(
            exception_types=[StepExceptionTypeEnum.SERVICE_FAULT, StepExceptionTypeEnum.THROTTLING],
            **timing,
        )
    ]
    if job:
        faults = [
            SageMakerJobExceptionTypeEnum.INTERNAL_ERROR,
            SageMakerJobExceptionTypeEnum.CAPACITY_ERROR,
            SageMakerJobExceptionTypeEnum.RESOURCE_LIMIT,
        ]
        policies.append(SageMakerJobStepRetryPolicy(exception_types=faults, **timing))
    return policies
