"""``targets.sagemaker``: what the examples write is accepted, and AWS's own rules for a
role ARN, region, bucket, instance type and KMS key are checked when compiling."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from pipespec.backends.sagemaker.options import DEFAULT_INSTANCE_TYPE, SagemakerOptions
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


def test_an_empty_block_compiles_with_defaults() -> None:
    options = SagemakerOptions.model_validate({})
    assert options.instance_type == DEFAULT_INSTANCE_TYPE
    assert options.role_arn is None and options.bucket is None


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
    with pytest.raises(ValidationError):
        SagemakerOptions.model_validate(block)
