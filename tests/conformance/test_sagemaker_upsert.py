"""The upsert file against the pinned botocore (``CreatePipeline``/``UpdatePipeline``,
``scheduler``'s ``CreateSchedule``/``UpdateSchedule``), and the boto3 lines of
docs/targets/sagemaker.md run on it in the sagemaker venv with every AWS call answered
locally (``sagemaker_upsert_probe.py``): they upload exactly the manifest's bytes, create
the pipeline with the definition's text (or update it), and create (or update) the schedule.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

import pytest

from pipespec.backends.sagemaker.context import Context
from pipespec.backends.sagemaker.options import SagemakerOptions
from pipespec.backends.sagemaker.upsert import upsert_text
from tests.backends.spec_ir import ir_of
from tests.conformance.venv_runner import run_json
from tests.conftest import ROOT

pytestmark = pytest.mark.conformance

ROLE = "arn:aws:iam::123456789012:role/pipelines"
BUCKET = "acme-ml"
DOC = ROOT / "docs" / "targets" / "sagemaker.md"
SPEC = """
pipespec: 1
name: churn-retrain
description: |
  Weekly churn retraining: "quotes", $(not a command)
  and a second line.
schedule: "0 3 * * mon-fri"
params:
  day: {type: string, default: "2024-01-01"}
  flag: {type: bool, default: false}
steps:
  a: {kind: container, image: busybox, command: [run, "${params.day}"]}
"""
CODE = f"s3://{BUCKET}/pipespec/code/{'ab' * 32}"
TARBALL = f"s3://{BUCKET}/pipespec/code/{'cd' * 32}/sourcedir.tar.gz"
MEMBERS = {"train.py": "print('train')\n", "pipespec_trial.py": "print('trial')\n"}
UPLOADS = {f"{CODE}/train.py": "print('t')\n", f"{CODE}/launch.json": "{}\n"}
DEFINITION = '{"Version": "2020-12-01", "Metadata": {}, "Parameters": [], "Steps": []}\n'


def _write(tmp_path: Path, schedule: bool = True) -> Path:
    text = SPEC if schedule else SPEC.replace('schedule: "0 3 * * mon-fri"\n', "")
    pipeline = ir_of(tmp_path, text)
    options = {"role_arn": ROLE, "region": "eu-west-1", "tags": {"team": "ml"}}
    ctx = Context(pipeline, SagemakerOptions.model_validate(options), "eu-west-1", ROLE, BUCKET)
    ctx.uploads.update({**UPLOADS, TARBALL: json.dumps(MEMBERS)})
    upsert, files = upsert_text(ctx, "churn-retrain.json")
    folder = tmp_path / "generated" / "sagemaker"
    for rel, content in {**files, "churn-retrain.json": DEFINITION}.items():
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        (folder / rel).write_text(content, encoding="utf-8")
    (folder / "churn-retrain.upsert.json").write_text(upsert, encoding="utf-8")
    return folder / "churn-retrain.upsert.json"


def _program(folder: Path) -> str:
    """The docs' boto3 lines, reading the files the test wrote."""
    blocks: list[str] = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    (program,) = [b for b in blocks if "upsert.json" in b]
    assert 'pathlib.Path("generated/sagemaker")' in program
    return program.replace('pathlib.Path("generated/sagemaker")', f"pathlib.Path({str(folder)!r})")


def _probe(upsert: Path, *, exists: bool, run: bool = True) -> dict[str, Any]:
    program = _program(upsert.parent) if run else None
    given = {"upsert": str(upsert), "program": program, "exists": exists}
    report: dict[str, Any] = run_json(
        "sagemaker", "tests.conformance.sagemaker_upsert_probe", [], json.dumps(given)
    )
    return report


def _sent(call: list[Any]) -> dict[str, Any]:
    """A call's parameters as the program passed them (botocore adds idempotency tokens)."""
    return {k: v for k, v in call[2].items() if k not in ("ClientRequestToken", "ClientToken")}


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def test_a_new_pipeline_is_uploaded_created_and_scheduled(tmp_path: Path) -> None:
    upsert = _write(tmp_path)
    report = _probe(upsert, exists=False)
    assert report["problems"] == []
    calls = report["calls"]
    assert [c[:2] for c in calls] == [
        *[["s3", "PutObject"]] * 3,
        ["sagemaker", "CreatePipeline"],
        ["scheduler", "UpdateSchedule"],
        ["scheduler", "CreateSchedule"],
    ]
    uploaded = {f"s3://{c[2]['Bucket']}/{c[2]['Key']}": c[2]["Body"] for c in calls[:3]}
    assert {u: b["sha256"] for u, b in uploaded.items() if u != TARBALL} == {
        u: _sha(t) for u, t in UPLOADS.items()
    }
    assert sorted(uploaded[TARBALL]["tar"]) == sorted([n, _sha(t)] for n, t in MEMBERS.items())
    document = json.loads(upsert.read_text(encoding="utf-8"))
    created = _sent(calls[3])
    assert created.pop("PipelineDefinition") == DEFINITION
    assert created == {
        k: v for k, v in document["pipeline"].items() if k != "PipelineDefinitionFile"
    }
    assert _sent(calls[4]) == _sent(calls[5]) == document["schedule"]


def test_an_existing_pipeline_is_updated_without_tags(tmp_path: Path) -> None:
    report = _probe(_write(tmp_path), exists=True)
    assert report["problems"] == []
    operations = [c[1] for c in report["calls"] if c[0] != "s3"]
    assert operations == ["CreatePipeline", "UpdatePipeline", "UpdateSchedule"]
    updated = report["calls"][-2][2]
    assert "Tags" not in updated and updated["PipelineName"] == "churn-retrain"


def test_without_a_schedule_nothing_is_scheduled(tmp_path: Path) -> None:
    report = _probe(_write(tmp_path, schedule=False), exists=False)
    assert report["problems"] == []
    assert [c[0] for c in report["calls"]][-1] == "sagemaker"


def test_the_shape_check_finds_what_aws_would_refuse(tmp_path: Path) -> None:
    upsert = _write(tmp_path)
    document = json.loads(upsert.read_text(encoding="utf-8"))
    document["schedule"]["FlexibleTimeWindow"]["Mode"] = "SOMETIMES"
    document["schedule"]["Target"]["SageMakerPipelineParameters"] = {
        "PipelineParameterList": [{"Name": "day", "Value": ""}]
    }
    document["pipeline"]["PipelineDescription"] = "x" * 3073
    upsert.write_text(json.dumps(document), encoding="utf-8")
    problems = "\n".join(_probe(upsert, exists=True, run=False)["problems"])
    assert "SOMETIMES" in problems
    assert "PipelineParameterList[0].Value" in problems
    assert "3073 characters" in problems
