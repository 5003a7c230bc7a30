"""Offline PipelineSession for the SageMaker reference programs: no AWS call is made.

Every program here builds a pipeline with sagemaker 2.x and prints ``Pipeline.definition()``.
The session has a fixed region (eu-west-1), dummy credentials, a default bucket (so the SDK
never asks STS for the account or S3 whether the bucket exists), and S3 uploads of local code
answered locally (the SDK uploads ``code=``/``entry_point=`` files while it builds the
definition). A fixed role ARN avoids ``get_execution_role`` (an IAM/STS call).
"""

from __future__ import annotations

import json
import logging
import os
import sys
from typing import Any

# Dummy credentials and no instance metadata: any stray AWS call fails at once, never hangs.
os.environ.setdefault("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "dummy")
os.environ["AWS_EC2_METADATA_DISABLED"] = "true"
os.environ.setdefault("AWS_DEFAULT_REGION", "eu-west-1")
# sagemaker 2.x warns on import that v3 is the maintained line; the warning is not the point.
os.environ.setdefault("SAGEMAKER_SUPPRESS_V2_WARNING", "1")
# sagemaker.config logs "Not applying SDK defaults from location ..." on stdout, already while
# `import sagemaker` builds JumpStart's default session; keep stdout pure JSON.
logging.getLogger("sagemaker.config").setLevel(logging.WARNING)

import boto3  # noqa: E402
from botocore.awsrequest import AWSPreparedRequest, AWSResponse  # noqa: E402
from sagemaker.session import Session  # noqa: E402
from sagemaker.workflow.pipeline import Pipeline  # noqa: E402
from sagemaker.workflow.pipeline_context import PipelineSession  # noqa: E402

REGION = "eu-west-1"
BUCKET = "my-bucket"
ROLE = "arn:aws:iam::111122223333:role/SageMakerRole"
UPLOADS: list[str] = []
SDK_CONFIG: dict[str, Any] = {
    "SchemaVersion": "1.0",
    "SageMaker": {"PythonSDK": {"Modules": {"TelemetryOptOut": True}}},
}


class _EmptyBody:
    def stream(self, **_: Any) -> Any:
        return iter([b""])


def _answer_s3(request: AWSPreparedRequest, **_: Any) -> AWSResponse:
    # Every S3 request (code uploads: PutObject, multipart...) is answered 200 before it is sent.
    UPLOADS.append(f"{request.method} {request.url}")
    return AWSResponse(request.url, 200, {}, _EmptyBody())


def _default_bucket(self: Session) -> str:
    # Even with default_bucket= given, Session.default_bucket() asks S3 (ListBuckets) whether
    # the bucket exists the first time it is called.
    return BUCKET


Session.default_bucket = _default_bucket  # type: ignore[method-assign]


def session() -> PipelineSession:
    boto = boto3.Session(
        aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="dummy", region_name=REGION
    )
    boto.events.register("before-send.s3", _answer_s3)
    # An explicit SDK config skips the config-file lookup and opts out of the SDK's telemetry
    # (an HTTPS GET to an S3 bucket of AWS's on create/upsert/definition, through requests).
    return PipelineSession(boto_session=boto, default_bucket=BUCKET, sagemaker_config=SDK_CONFIG)


def show(pipeline: Pipeline) -> dict[str, Any]:
    definition: dict[str, Any] = json.loads(pipeline.definition())
    json.dump(definition, sys.stdout, indent=2, sort_keys=False)
    sys.stdout.write("\n")
    if UPLOADS:
        sys.stderr.write("S3 requests answered locally: " + ", ".join(UPLOADS) + "\n")
    return definition
