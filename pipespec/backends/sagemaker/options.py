"""``targets.sagemaker`` in a spec: the SageMaker Pipelines backend's options, checked
strictly, each at its line (the driver reports a fault as a diagnostic).

``role_arn`` and ``region`` are required: every job in a definition names the role it runs
as, and the framework images and the default bucket are per region. The bucket defaults to
the sagemaker SDK's default bucket, ``sagemaker-<region>-<account id>`` (the account from
the role's ARN).
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from pipespec.backends.base import Options

# AWS's own rules, so a bad value is an error at its line, not a rejected API call later.
# ASCII classes on purpose: Unicode \w under a {1,512} bound makes a huge regex.
ROLE_ARN_RE = r"^arn:aws[a-z-]*:iam::[0-9]{12}:role/[A-Za-z0-9_+=,.@/-]{1,512}$"
REGION_RE = r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-[0-9]$"
# S3 bucket names: 3-63 characters, lowercase letters, digits, dots and hyphens.
BUCKET_RE = r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$"
PREFIX_RE = r"^[A-Za-z0-9!_.*'()/-]{0,512}$"
# An ML instance type (ml.m5.xlarge, ml.g5.2xlarge), as CreateTrainingJob's enum spells it.
INSTANCE_TYPE_RE = r"^ml\.[a-z0-9]+\.[a-z0-9]+$"
KMS_KEY_RE = (
    r"^(arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:(key|alias)/[A-Za-z0-9_/-]{1,256}"
    r"|[A-Za-z0-9_-]{1,256})$"
)
DEFAULT_INSTANCE_TYPE = "ml.m5.xlarge"
TagKey = Annotated[str, Field(min_length=1, max_length=128)]
TagValue = Annotated[str, Field(max_length=256)]


class SagemakerOptions(Options):
    """How a pipeline becomes a SageMaker pipeline definition and the call that creates it."""

    # Required: every job names the role it runs as; images and the bucket are per region.
    role_arn: Annotated[str, Field(pattern=ROLE_ARN_RE)]
    # The role EventBridge Scheduler assumes to start the scheduled runs (it needs
    # sagemaker:StartPipelineExecution on the pipeline); default: role_arn.
    scheduler_role_arn: Annotated[str, Field(pattern=ROLE_ARN_RE)] | None = None
    region: Annotated[str, Field(pattern=REGION_RE)]
    # Where the code files, inputs and outputs of the pipeline's jobs live in S3.
    bucket: Annotated[str, Field(pattern=BUCKET_RE)] | None = None
    prefix: Annotated[str, Field(pattern=PREFIX_RE)] = "pipespec"
    # A job's instance type when the step's resources choose none.
    instance_type: Annotated[str, Field(pattern=INSTANCE_TYPE_RE)] = DEFAULT_INSTANCE_TYPE
    kms_key: Annotated[str, Field(pattern=KMS_KEY_RE)] | None = None
    tags: dict[TagKey, TagValue] = Field(default_factory=dict)


def default_bucket(region: str, role_arn: str) -> str:
    """The sagemaker SDK's default bucket: ``sagemaker-<region>-<account id>``."""
    return f"sagemaker-{region}-{role_arn.split(':')[4]}"
