"""Params as SageMaker Parameters: the four native types, lists and dicts as JSON text,
enums on String parameters; references and joins in the SDK's form."""

from __future__ import annotations

from pathlib import Path

from pipespec.backends.sagemaker.parameters import join, param_ref, parameters
from tests.backends.spec_ir import ir_of

SPEC = """
pipespec: 1
name: params
params:
  day: {type: string, default: "2024-01-01"}
  mode: {type: string, default: fast, enum: [fast, slow]}
  count: {type: int, default: 3}
  ratio: {type: float, default: 1}
  on: {type: bool, default: true}
  regions: {type: list, default: [eu, us]}
  extra: {type: dict, default: {b: 2, a: 1}}
  free: {type: string}
steps:
  one:
    kind: container
    image: busybox:1
    command: [echo, hi]
"""


def test_params_become_parameters(tmp_path: Path) -> None:
    found = parameters(ir_of(tmp_path, SPEC))
    assert found == [
        {"Name": "day", "Type": "String", "DefaultValue": "2024-01-01"},
        {"Name": "mode", "Type": "String", "DefaultValue": "fast", "EnumValues": ["fast", "slow"]},
        {"Name": "count", "Type": "Integer", "DefaultValue": 3},
        {"Name": "ratio", "Type": "Float", "DefaultValue": 1.0},
        {"Name": "on", "Type": "Boolean", "DefaultValue": True},
        {"Name": "regions", "Type": "String", "DefaultValue": '["eu","us"]'},
        {"Name": "extra", "Type": "String", "DefaultValue": '{"a":1,"b":2}'},
        {"Name": "free", "Type": "String"},
    ]


def test_references_and_joins_are_the_sdks_forms() -> None:
    assert param_ref("day") == {"Get": "Parameters.day"}
    assert join(["a", "b"], "/") == "a/b"
    assert join(["s3://b/", param_ref("day")]) == {
        "Std:Join": {"On": "", "Values": ["s3://b/", {"Get": "Parameters.day"}]}
    }
