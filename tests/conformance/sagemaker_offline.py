"""Build SageMaker pipeline definitions with the sagemaker 2.x SDK without touching AWS.

Runs in the ``sagemaker`` conformance venv (``locks/sagemaker.txt``). A sample
(``samples/sagemaker/*.py``) defines ``build(session) -> Pipeline``; :func:`build_sample`
calls it with :func:`offline_session` and returns ``pipeline.definition()`` parsed.

What makes the SDK work offline (found by running it with the network unreachable):

* A ``PipelineSession``: ``Processor.run`` / ``Estimator.fit`` / ``Model.create`` /
  ``Transformer.transform`` / ``HyperparameterTuner.fit`` then return the request they would
  send instead of sending it (``runnable_by_pipeline``).
* A ``boto3.Session`` with a fixed region and dummy keys: the SDK reads the region and builds
  clients but, in a PipelineSession, calls nothing with them.
* ``default_bucket`` given *and* already resolved (``_default_bucket``): otherwise
  ``Session.default_bucket()`` calls S3 to create the bucket, even when its name is given,
  as soon as an output path must be made up (ProcessingOutput without destination).
* Dummy keys and the region in the environment too (``OFFLINE_ENV``), for the default boto3
  session the SDK uses on the side (JumpStart at import, ``TensorBoardApp`` in every
  Estimator's constructor); and the EC2 metadata service disabled.
* A full role ARN, explicit image URIs and S3 URIs: nothing to look up in IAM, ECR or S3.
* ``sagemaker_config`` passed in with ``TelemetryOptOut``: without it the SDK sends a
  telemetry GET to ``sm-pysdk-t-<region>.s3.<region>.amazonaws.com`` (plain ``requests``,
  not boto) on every ``fit``/``run``, and reads config files from ``/etc/xdg`` and ``~``.

Two guards make "no call" a fact rather than a hope: a botocore ``before-send`` handler that
refuses every AWS request, and ``socket.getaddrinfo`` / ``socket.create_connection`` replaced
for the build so any other connection attempt fails; both record the attempt, and
:func:`build_sample` reports them (the SDK swallows some failures, e.g. telemetry's).
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import runpy
import socket
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

REGION = "us-east-1"
BUCKET = "pipespec-conformance"
ACCOUNT = "111122223333"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/SageMakerRole"
SDK_CONFIG: dict[str, Any] = {
    "SchemaVersion": "1.0",
    "SageMaker": {"PythonSDK": {"Modules": {"TelemetryOptOut": True}}},
}
# Read by boto3's *default* session, which the SDK also uses behind the PipelineSession's
# back (JumpStart's module-level session at import, ``TensorBoardApp`` in every Estimator):
# without keys in the environment botocore's credential chain asks the EC2 metadata service.
OFFLINE_ENV = {
    "AWS_ACCESS_KEY_ID": "AKIDOFFLINE",
    "AWS_SECRET_ACCESS_KEY": "offline",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_EC2_METADATA_DISABLED": "true",
    "SAGEMAKER_SUPPRESS_V2_WARNING": "1",
}
ATTEMPTS: list[str] = []


class NetworkRefused(RuntimeError):
    """The SDK tried to reach the network while building a definition offline."""


def _refuse_aws(request: Any, **_: Any) -> None:
    ATTEMPTS.append(f"AWS request {request.method} {request.url}")
    raise NetworkRefused(ATTEMPTS[-1])


def _refuse_socket(*args: Any, **_: Any) -> Any:
    ATTEMPTS.append(f"connection to {args[0]!r}")
    raise NetworkRefused(ATTEMPTS[-1])


@contextlib.contextmanager
def no_network() -> Iterator[None]:
    saved = socket.getaddrinfo, socket.create_connection
    socket.getaddrinfo = _refuse_socket
    socket.create_connection = _refuse_socket
    try:
        yield
    finally:
        socket.getaddrinfo, socket.create_connection = saved


def offline_session() -> Any:
    """A ``PipelineSession`` in ``REGION`` with bucket ``BUCKET`` that sends nothing."""
    # Imported by name: the SDK exists only in the conformance venv (mypy runs outside it).
    boto3 = importlib.import_module("boto3")
    context = importlib.import_module("sagemaker.workflow.pipeline_context")
    boto = boto3.Session(
        region_name=REGION, aws_access_key_id="AKIDOFFLINE", aws_secret_access_key="offline"
    )
    boto._session.register("before-send", _refuse_aws)
    session = context.PipelineSession(
        boto_session=boto, default_bucket=BUCKET, sagemaker_config=SDK_CONFIG
    )
    session._default_bucket = BUCKET  # resolved: default_bucket() must not call S3
    return session


def build_sample(path: Path) -> tuple[dict[str, Any], list[str]]:
    """The definition ``path``'s ``build(session)`` pipeline produces, and the network
    attempts made while building it (should be none)."""
    os.environ.update(OFFLINE_ENV)
    del ATTEMPTS[:]
    # The SDK prints (config INFO lines) on stdout, which carries the JSON answer.
    with no_network(), contextlib.redirect_stdout(sys.stderr):
        namespace = runpy.run_path(str(path), run_name=f"sample_{path.stem}")
        pipeline = namespace["build"](offline_session())
        definition = json.loads(pipeline.definition())
    return definition, list(ATTEMPTS)


def build_samples(out: Path, samples: list[Path]) -> dict[str, Any]:
    """Each sample's definition written to ``out/<stem>.json``: stem -> {path, attempts}."""
    written: dict[str, Any] = {}
    for sample in samples:
        definition, attempts = build_sample(sample)
        target = out / f"{sample.stem}.json"
        target.write_text(json.dumps(definition, indent=2) + "\n", encoding="utf-8")
        written[sample.stem] = {"path": str(target), "network_attempts": attempts}
    return written
