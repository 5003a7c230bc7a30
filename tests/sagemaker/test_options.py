"""``targets.sagemaker``: what the examples write is accepted, and AWS's own rules for a
role ARN, region, bucket, instance type and KMS key are checked when compiling."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from pipespec.api import analyze_file
from pipespec.backends.sagemaker.options import (
    DEFAULT_INSTANCE_TYPE,
    SagemakerOptions,
    default_bucket,
)
from tests.conftest import ROOT


def _examples() -> list[tuple[str, dict[str, Any]]]:
    found = []
    for spec in sorted((ROOT / "examples").glob("*/pipeline.yaml")):
        block = (yaml.safe_load(spec.read_text(encoding="utf-8")).get("targets") or {}).get(
            "sagemaker"
        )
        if block is not None:
            found.append((spec.parent.name, block))
    return found


@pytest.mark.parametrize(("example", "block"), _examples())
def test_the_examples_settings_are_accepted(example: str, block: dict[str, Any]) -> None:
    options = SagemakerOptions.model_validate(block)
    assert options.region and options.role_arn, example


REQUIRED = {"role_arn": "arn:aws:iam::123456789012:role/pipelines", "region": "eu-west-1"}


def test_the_role_and_region_are_all_a_block_needs() -> None:
    options = SagemakerOptions.model_validate(REQUIRED)
    assert options.instance_type == DEFAULT_INSTANCE_TYPE
    assert options.bucket is None and options.prefix == "pipespec"
    assert default_bucket("eu-west-1", REQUIRED["role_arn"]) == ("sagemaker-eu-west-1-123456789012")


@pytest.mark.parametrize("missing", [["role_arn"], ["region"], ["role_arn", "region"]])
def test_without_the_role_or_region_the_block_says_which(missing: list[str]) -> None:
    block = {k: v for k, v in REQUIRED.items() if k not in missing}
    with pytest.raises(ValidationError) as caught:
        SagemakerOptions.model_validate(block)
    errors = caught.value.errors()
    assert [(e["type"], e["loc"]) for e in errors] == [("missing", (m,)) for m in missing]


@pytest.mark.parametrize(
    "block",
    [
        {"region": "EU"},
        {"region": "eu-west"},
        {"role_arn": "arn:aws:iam::12:role/pipelines"},
        {"role_arn": "arn:aws:iam::123456789012:user/someone"},
        {"bucket": "Acme_Bucket"},
        {"bucket": "ab"},
        {"instance_type": "m5.xlarge"},
        {"kms_key": "arn:aws:kms:eu-west-1:123:key/x"},
        {"prefix": "a b"},
        {"unknown": 1},
    ],
)
def test_a_value_aws_would_refuse_is_an_error(block: dict[str, Any]) -> None:
    # With the required role and region, so only the value under test can fail it.
    with pytest.raises(ValidationError) as caught:
        SagemakerOptions.model_validate({**REQUIRED, **block})
    assert all(e["type"] != "missing" for e in caught.value.errors())


NO_BLOCK = """\
pipespec: 1
name: no-block
steps:
  hello: {kind: container, image: "busybox:1.36", command: [echo, hi]}
"""


@pytest.mark.parametrize("targets", ["", "targets:\n  airflow: {version: '3'}\n"])
def test_compiling_for_sagemaker_without_its_block_says_what_to_add(
    tmp_path: Path, targets: str
) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_text(NO_BLOCK + targets, encoding="utf-8")
    found = analyze_file(spec, targets=["sagemaker"]).diagnostics
    assert sorted(d.message for d in found) == [
        "missing required key 'region'",
        "missing required key 'role_arn'",
    ]
    line = 5 if targets else 1  # the `targets:` key, else the top of the file
    assert {(d.code, d.span.line if d.span else 0) for d in found} == {("PS201", line)}
    assert all("add a `targets.sagemaker:` block" in (d.hint or "") for d in found)
