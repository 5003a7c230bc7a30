"""``<name>.upsert.json``: CreatePipeline's parameters (the definition by file name), the
upload manifest with the code files written beside it, and the schedule, as data."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from pipespec import ir
from pipespec.backends.sagemaker.context import Context
from pipespec.backends.sagemaker.options import SagemakerOptions
from pipespec.backends.sagemaker.schedule import UnsupportedSchedule
from pipespec.backends.sagemaker.upsert import (
    MAX_DESCRIPTION,
    UnsafeUpload,
    upsert_document,
    upsert_text,
)
from tests.backends.spec_ir import ir_of

ROLE = "arn:aws:iam::123456789012:role/pipelines"
SCHEDULER = "arn:aws:iam::123456789012:role/scheduler"
BUCKET = "acme-ml"
SPEC = """
pipespec: 1
name: nightly-churn
description: |
  Retrains the churn model.
  Every night.
schedule: "{schedule}"
params:
  day: {{type: string, default: "2024-01-01"}}
  min_auc: {{type: float, default: 0.8}}
steps:
  a: {{kind: container, image: busybox, command: [run, "${{params.day}}"]}}
"""


def spec(schedule: str = "0 3 * * 1", **replace: str) -> str:
    text = SPEC.format(schedule=schedule)
    for old, new in replace.items():
        text = text.replace(old, new)
    return text


def context(
    pipeline: ir.Pipeline, uploads: dict[str, str] | None = None, **options: Any
) -> Context:
    opts = SagemakerOptions.model_validate({"role_arn": ROLE, "region": "eu-west-1", **options})
    ctx = Context(pipeline, opts, "eu-west-1", ROLE, BUCKET)
    ctx.uploads.update(uploads or {})
    return ctx


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def test_the_pipeline_params_name_the_definition_and_carry_role_description_tags(
    tmp_path: Path,
) -> None:
    ctx = context(ir_of(tmp_path, spec()), tags={"team": "ml", "cost": "42"})
    document, files = upsert_document(ctx, "nightly-churn.json")
    assert document["pipeline"] == {
        "PipelineName": "nightly-churn",
        "PipelineDefinitionFile": "nightly-churn.json",
        "RoleArn": ROLE,
        "PipelineDescription": "Retrains the churn model. Every night.",
        "Tags": [{"Key": "cost", "Value": "42"}, {"Key": "team", "Value": "ml"}],
    }
    assert document["region"] == "eu-west-1"
    assert "missing" not in document and document["uploads"] == [] and files == {}


def test_a_long_description_is_cut_to_what_create_pipeline_takes(tmp_path: Path) -> None:
    long = "word " * 1000
    pipeline = ir_of(tmp_path, spec(**{"Retrains the churn model.": long}))
    about = upsert_document(context(pipeline), "d.json")[0]["pipeline"]["PipelineDescription"]
    assert len(about) == MAX_DESCRIPTION and about.endswith("…")


def test_the_schedule_is_eventbridge_schedulers_create_schedule(tmp_path: Path) -> None:
    ctx = context(ir_of(tmp_path, spec()), scheduler_role_arn=SCHEDULER)
    assert upsert_document(ctx, "d.json")[0]["schedule"] == {
        "Name": "nightly-churn",
        "ScheduleExpression": "cron(0 3 ? * MON *)",
        "FlexibleTimeWindow": {"Mode": "OFF"},
        "Target": {
            "Arn": "arn:aws:sagemaker:eu-west-1:123456789012:pipeline/nightly-churn",
            "RoleArn": SCHEDULER,
            "SageMakerPipelineParameters": {},
        },
        "State": "ENABLED",
    }


def test_the_scheduler_role_defaults_to_the_pipeline_role_and_keeps_its_partition(
    tmp_path: Path,
) -> None:
    china = "arn:aws-cn:iam::123456789012:role/pipelines"
    ctx = context(ir_of(tmp_path, spec("@daily")))
    ctx.role_arn = china
    target = upsert_document(ctx, "d.json")[0]["schedule"]["Target"]
    assert target["RoleArn"] == china
    assert target["Arn"].startswith("arn:aws-cn:sagemaker:eu-west-1:123456789012:pipeline/")


def test_no_schedule_is_null(tmp_path: Path) -> None:
    text = spec().replace('schedule: "0 3 * * 1"\n', "")
    assert upsert_document(context(ir_of(tmp_path, text)), "d.json")[0]["schedule"] is None


def test_a_scheduled_pipeline_needs_every_params_default(tmp_path: Path) -> None:
    pipeline = ir_of(tmp_path, spec(**{'default: "2024-01-01"': "description: the day"}))
    with pytest.raises(UnsupportedSchedule, match="'day' has none"):
        upsert_document(context(pipeline), "d.json")


def test_uploads_are_listed_by_uri_and_written_in_the_pipelines_folder(tmp_path: Path) -> None:
    folder = f"s3://{BUCKET}/pipespec/code/{'ab' * 32}"
    uploads = {f"{folder}/train.py": "print('t')\n", f"{folder}/launch.json": "{}\n"}
    text, files = upsert_text(context(ir_of(tmp_path, spec()), uploads), "d.json")
    document = json.loads(text)
    assert document["uploads"] == [
        {"s3_uri": f"{folder}/launch.json", "file": f"nightly-churn/code/{'ab' * 32}/launch.json"}
        | {"sha256": sha("{}\n")},
        {"s3_uri": f"{folder}/train.py", "file": f"nightly-churn/code/{'ab' * 32}/train.py"}
        | {"sha256": sha("print('t')\n")},
    ]
    assert files == {
        f"nightly-churn/code/{'ab' * 32}/{u.rsplit('/', 1)[1]}": t for u, t in uploads.items()
    }
    assert text == json.dumps(document, indent=2, sort_keys=True) + "\n"


def test_a_tuning_source_dir_is_listed_as_its_members(tmp_path: Path) -> None:
    uri = f"s3://{BUCKET}/pipespec/code/{'cd' * 32}/sourcedir.tar.gz"
    members = {"train.py": "print(1)\n", "pipespec_trial.py": "print(2)\n"}
    ctx = context(ir_of(tmp_path, spec()), {uri: json.dumps(members)})
    document, files = upsert_document(ctx, "d.json")
    folder = f"nightly-churn/code/{'cd' * 32}/sourcedir"
    assert document["uploads"] == [
        {
            "s3_uri": uri,
            "tar_gz": [
                {"name": n, "file": f"{folder}/{n}", "sha256": sha(members[n])}
                for n in sorted(members)
            ],
        }
    ]
    assert files == {f"{folder}/{n}": t for n, t in members.items()}


def test_an_empty_prefix_keeps_the_whole_key(tmp_path: Path) -> None:
    uri = f"s3://{BUCKET}/code/{'ef' * 32}/x.py"
    ctx = context(ir_of(tmp_path, spec()), {uri: "x\n"}, prefix="")
    assert upsert_document(ctx, "d.json")[1] == {f"nightly-churn/code/{'ef' * 32}/x.py": "x\n"}


@pytest.mark.parametrize(
    "uploads",
    [
        {f"s3://{BUCKET}/pipespec/code/../../etc/x.py": "x"},
        {f"s3://{BUCKET}/pipespec/code/a b/x.py": "x"},
        {f"s3://{BUCKET}": "x"},
        {f"s3://{BUCKET}/pipespec/code/f/sourcedir.tar.gz": json.dumps({"../x.py": "x"})},
        {f"s3://{BUCKET}/pipespec/code/f/sourcedir.tar.gz": "not json"},
        {f"s3://{BUCKET}/pipespec/code/f/sourcedir.tar.gz": json.dumps({"a.py": 1})},
    ],
)
def test_an_upload_that_cannot_be_a_plain_file_is_refused(
    tmp_path: Path, uploads: dict[str, str]
) -> None:
    with pytest.raises(UnsafeUpload):
        upsert_document(context(ir_of(tmp_path, spec()), uploads), "d.json")


def test_a_definition_over_the_inline_limit_is_uploaded_and_read_from_s3(
    tmp_path: Path,
) -> None:
    from pipespec.backends.sagemaker.upsert import MAX_INLINE_DEFINITION

    ctx = context(ir_of(tmp_path, spec()))
    big = "x" * (MAX_INLINE_DEFINITION + 1)
    document, _ = upsert_document(ctx, "big.json", big)
    where = document["pipeline"]["PipelineDefinitionS3Location"]
    assert "PipelineDefinitionFile" not in document["pipeline"]
    uri = f"s3://{where['Bucket']}/{where['ObjectKey']}"
    (entry,) = [u for u in document["uploads"] if u["s3_uri"] == uri]
    assert entry["file"] == "big.json"
    small, _ = upsert_document(ctx, "small.json", "{}")
    assert small["pipeline"]["PipelineDefinitionFile"] == "small.json"
    assert "PipelineDefinitionS3Location" not in small["pipeline"]
