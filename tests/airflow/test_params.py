"""Param constraints reach Airflow's Param as JSON Schema, which Airflow checks when a run
is triggered: a value outside `enum` or not matching `pattern` never reaches a command."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from pipespec.api import analyze_file
from tests.airflow.helpers import VARIANTS, render

SPEC = """pipespec: 1
name: constrained
params:
  env: {type: string, default: staging, enum: [staging, production]}
  tag: {type: string, default: v1, pattern: "^v[0-9]+$"}
steps:
  deploy:
    kind: container
    image: busybox
    command: [sh, -c, "deploy --env ${params.env} --tag ${params.tag}"]
"""


def _param_schemas(text: str) -> dict[str, dict[str, Any]]:
    """Each `Param(default, **schema)` call of the DAG file, read back with ast."""
    out: dict[str, dict[str, Any]] = {}
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values, strict=True):
                if isinstance(value, ast.Call) and getattr(value.func, "id", "") == "Param":
                    assert isinstance(key, ast.Constant) and isinstance(key.value, str)
                    out[key.value] = {
                        k.arg: ast.literal_eval(k.value) for k in value.keywords if k.arg
                    }
    return out


@pytest.mark.parametrize(("version", "operator"), VARIANTS)
def test_enum_and_pattern_are_enforced_when_a_run_is_triggered(
    tmp_path: Path, version: str, operator: str
) -> None:
    spec = tmp_path / "pipeline.yaml"
    spec.write_text(SPEC)
    analysis = analyze_file(spec)
    assert analysis.pipeline is not None, analysis.diagnostics
    # Constrained params spliced into a shell are not warned about.
    assert not [d for d in analysis.diagnostics if d.code == "PS312"]
    schemas = _param_schemas(render(analysis.pipeline, version, operator))
    assert schemas["env"] == {"type": "string", "enum": ["staging", "production"]}
    assert schemas["tag"] == {"type": "string", "pattern": "^v[0-9]+$"}
    jsonschema.validate("production", schemas["env"])
    jsonschema.validate("v12", schemas["tag"])
    for name, value in (("env", "x; rm -rf /"), ("tag", "v1'; id #")):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(value, schemas[name])
