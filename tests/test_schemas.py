"""The authoring schema agrees with the models; the complete-form schemas judge steps."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from pipespec import schemas
from pipespec.spec.loader import read_spec_file
from pipespec.spec.models import STEP_KINDS
from pipespec.target_options import authoring_schema
from tests.conftest import EXAMPLES

CASES = Path(__file__).parent / "cases" / "bad"


def test_committed_authoring_schema_is_generated_from_the_models() -> None:
    assert schemas.authoring_schema_text() == authoring_schema(), (
        "regenerate: python -c 'from pipespec.target_options import authoring_schema as g; "
        'open("pipespec/schemas/pipespec.schema.json", "w").write(g())\''
    )


def test_schema_describes_each_builtin_targets_block_and_leaves_other_names_open() -> None:
    schema = json.loads(schemas.authoring_schema_text())
    validator = jsonschema.Draft202012Validator(schema)
    spec = {"pipespec": 1, "name": "x", "steps": {"a": {"kind": "container"}}}
    assert not list(validator.iter_errors({**spec, "targets": {"planned": {"any": 1}}}))
    typo = {**spec, "targets": {"airflow": {"operater": "local"}}}
    assert list(validator.iter_errors(typo)), "the airflow block's unknown key passed"
    too_long = {**spec, "targets": {"airflow": {"tags": ["x" * 101]}}}
    assert list(validator.iter_errors(too_long)), "Airflow's tag limit is not in the schema"


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.parent.name)
def test_examples_satisfy_the_authoring_schema(example: Path) -> None:
    loaded, diags = read_spec_file(example)
    assert loaded is not None and not diags
    schema = json.loads(schemas.authoring_schema_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.validate(loaded.data, schema, cls=jsonschema.Draft202012Validator)


def test_schema_and_models_reject_the_same_unknown_keys() -> None:
    loaded, _ = read_spec_file(CASES / "shape.yaml")
    assert loaded is not None
    schema = json.loads(schemas.authoring_schema_text())
    errors = list(jsonschema.Draft202012Validator(schema).iter_errors(loaded.data))
    assert errors, "the schema accepted a spec the models reject"


@pytest.mark.parametrize("kind", STEP_KINDS)
def test_complete_schema_exists_for_every_kind(kind: str) -> None:
    schema = schemas.complete_schema(kind)
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["properties"]["kind"] == {"const": kind}
    missing = schemas.complete_form_errors(kind, {"kind": kind})
    # A fail step runs nothing: it needs its message, not an image.
    needed = "message" if kind == "fail" else "image"
    assert any(needed in message for _, message in missing)


def test_complete_form_accepts_a_complete_train_step() -> None:
    form = {
        "kind": "train",
        "image": "x:1",
        "script": "train.py",
        "framework": "xgboost",
        "task": "regression",
        "hyperparameters": {"eta": 0.1},
    }
    assert schemas.complete_form_errors("train", form) == []
    del form["script"]
    assert schemas.complete_form_errors("train", form)
