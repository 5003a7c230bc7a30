"""Check a ``<name>.upsert.json`` with the pinned botocore, and run the boto3 lines of
docs/targets/sagemaker.md on it with every AWS call answered locally.

Runs in the ``sagemaker`` conformance venv, as a module (``venv_runner.run_json``); stdin
is ``{"upsert": PATH, "program": TEXT or null, "exists": BOOL}``, stdout one JSON report:

* ``problems``: the ``pipeline`` parameters (the definition read from its file) against
  ``sagemaker``'s ``CreatePipeline`` and ``UpdatePipeline`` input shapes, the
  ``schedule`` against ``scheduler``'s ``CreateSchedule`` and ``UpdateSchedule``: botocore's
  own client-side validation, and the lengths and patterns it leaves to the service
  (``sagemaker_probe_shapes``);
* ``calls``: what ``program`` sent, in order, as ``[service, operation, params]``. An S3
  upload's ``Body`` is summarised as its SHA-256 and, for a gzipped tar, its members' names
  and SHA-256. ``exists`` answers as for a pipeline and schedule that already exist
  (``CreatePipeline`` refused with the service's "already exists"); otherwise
  ``UpdateSchedule`` is refused with ``ResourceNotFoundException``.

No request leaves the process: calls are answered in ``before-call``, and any other request
or connection is refused (``sagemaker_offline``).
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import io
import json
import os
import sys
import tarfile
from pathlib import Path
from typing import Any

from tests.conformance.sagemaker_offline import OFFLINE_ENV, _refuse_aws, no_network
from tests.conformance.sagemaker_probe_shapes import _check_structure

Json = Any
# The parameters botocore fills itself (idempotency tokens).
FILLED = frozenset({"ClientRequestToken", "ClientToken"})


def _problems(service: str, operation: str, params: dict[str, Any]) -> list[str]:
    session = importlib.import_module("botocore.session").get_session()
    shape = session.get_service_model(service).operation_model(operation).input_shape
    validate = importlib.import_module("botocore.validate")
    # A client fills an idempotency token before it validates (as a uuid4).
    tokens = {n: "0" * 36 for n in FILLED & set(shape.members) if n not in params}
    report = validate.ParamValidator().validate({**params, **tokens}, shape)
    found = [f"{operation}: {line}" for line in report.generate_report().splitlines() if line]
    found += _check_structure(operation, params, shape, FILLED)
    return found


def shape_problems(upsert: dict[str, Any], folder: Path) -> list[str]:
    pipeline = dict(upsert["pipeline"])
    definition = folder / pipeline.pop("PipelineDefinitionFile")
    pipeline["PipelineDefinition"] = definition.read_text(encoding="utf-8")
    found = _problems("sagemaker", "CreatePipeline", pipeline)
    pipeline.pop("Tags", None)
    found += _problems("sagemaker", "UpdatePipeline", pipeline)
    if upsert["schedule"] is not None:
        found += _problems("scheduler", "CreateSchedule", upsert["schedule"])
        found += _problems("scheduler", "UpdateSchedule", upsert["schedule"])
    return found


def _body(data: bytes) -> dict[str, Any]:
    summary: dict[str, Any] = {"sha256": hashlib.sha256(data).hexdigest()}
    if not data.startswith(b"\x1f\x8b"):  # not gzip: a plain file
        return summary
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        summary["tar"] = [
            [m.name, hashlib.sha256(tar.extractfile(m).read()).hexdigest()]  # type: ignore[union-attr]
            for m in tar.getmembers()
        ]
    return summary


def _bytes(body: Any) -> bytes:
    """An upload's body as sent: bytes, or a stream botocore rewinds after reading."""
    if isinstance(body, (bytes, bytearray)):
        return bytes(body)
    start = body.tell()
    data: bytes = body.read()
    body.seek(start)
    return data


class Answers:
    """Records each call's parameters and answers it as the service would."""

    def __init__(self, exists: bool) -> None:
        self.exists = exists
        self.calls: list[list[Any]] = []

    def record(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        service = model.service_model.service_name
        shown = dict(params)
        if "Body" in shown:
            shown["Body"] = _body(_bytes(shown["Body"]))
        self.calls.append([service, model.name, shown])

    def answer(self, model: Any, **_: Any) -> tuple[Any, dict[str, Any]]:
        awsrequest = importlib.import_module("botocore.awsrequest")
        status, parsed = self._reply(model.name)
        raw = type("Raw", (), {"stream": lambda self, **_: iter([b""])})()
        http = awsrequest.AWSResponse("https://offline.invalid", status, {}, raw)
        return http, {**parsed, "ResponseMetadata": {"HTTPStatusCode": status}}

    def _reply(self, operation: str) -> tuple[int, dict[str, Any]]:
        if operation == "CreatePipeline" and self.exists:
            message = "Pipeline names must be unique within an AWS account and region. "
            message += "Pipeline with name already exists."
            return 400, {"Error": {"Code": "ValidationException", "Message": message}}
        if operation == "UpdateSchedule" and not self.exists:
            error = {"Code": "ResourceNotFoundException", "Message": "Schedule not found."}
            return 404, {"Error": error}
        arn = "arn:aws:sagemaker:eu-west-1:123456789012:pipeline/offline"
        return 200, {"PipelineArn": arn, "ScheduleArn": arn, "ETag": '"offline"'}


def run_program(program: str, exists: bool) -> list[list[Any]]:
    """The docs' lines, run with boto3's default session answering every call."""
    os.environ.update(OFFLINE_ENV)
    boto3 = importlib.import_module("boto3")
    boto3.setup_default_session()
    answers = Answers(exists)
    events = boto3.DEFAULT_SESSION.events
    events.register("before-parameter-build", answers.record)
    events.register("before-call", answers.answer)
    events.register("before-send", _refuse_aws)
    with no_network(), contextlib.redirect_stdout(sys.stderr):
        exec(compile(program, "docs/targets/sagemaker.md", "exec"), {"__name__": "__main__"})
    return answers.calls


def main() -> int:
    given = json.loads(sys.stdin.read())
    path = Path(given["upsert"])
    upsert = json.loads(path.read_text(encoding="utf-8"))
    report = {
        "problems": shape_problems(upsert, path.parent),
        "calls": run_program(given["program"], given["exists"]) if given["program"] else [],
    }
    print(json.dumps(report, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
