"""Property: whatever a spec says, fill never changes a value the user wrote."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from pipespec.fill.engine import apply_fill
from pipespec.spec.loader import load_spec_text
from pipespec.spec.validate import validate_spec

FRAMEWORKS = ["xgboost", "scikit-learn", "lightgbm"]
TASKS = ["binary_classification", "multiclass_classification", "regression"]
names = st.sampled_from(["max_depth", "eta", "n_estimators", "learning_rate", "subsample", "x"])
values = st.one_of(st.integers(0, 100), st.floats(0.01, 1.0), st.sampled_from(["a", "b"]))


@st.composite
def train_steps(draw: st.DrawFn) -> dict[str, Any]:
    step: dict[str, Any] = {
        "kind": draw(st.sampled_from(["train", "tune"])),
        "framework": draw(st.sampled_from(FRAMEWORKS)),
        "task": draw(st.sampled_from(TASKS)),
        "inputs": {"train": "data.data"},
    }
    if draw(st.booleans()):
        step["hyperparameters"] = draw(st.dictionaries(names, values, max_size=4))
    if draw(st.booleans()):
        step["image"] = "registry.example/own:1"
    if draw(st.booleans()):
        step["command"] = ["python", "own.py", "${inputs.train}", "${outputs.model}"]
    if step["kind"] == "tune" and draw(st.booleans()):
        step["max_trials"] = draw(st.integers(1, 50))
    if step["kind"] == "tune" and draw(st.booleans()):
        step["objective"] = {"metric": "own_metric", "goal": "minimize"}
    return step


@settings(max_examples=60, deadline=None)
@given(train_steps(), st.booleans())
def test_fill_never_changes_a_user_written_value(
    step: dict[str, Any], with_default_image: bool
) -> None:
    doc: dict[str, Any] = {
        "pipespec": 1,
        "name": "p",
        "steps": {
            "data": {
                "kind": "container",
                "image": "x:1",
                "command": ["x"],
                "outputs": {"data": "dataset"},
            },
            "model": step,
        },
    }
    if with_default_image:
        doc["defaults"] = {"image": "registry.example/default:1"}
    loaded, diags = load_spec_text(json.dumps(doc), "p.yaml")
    assert loaded is not None and not diags
    vspec, vdiags = validate_spec(loaded)
    assert not vdiags
    filled = apply_fill(vspec, locked=False).vspec.steps["model"]
    for key, value in step.items():
        got = getattr(filled, key)
        if isinstance(value, dict) and key == "hyperparameters":
            assert {k: got[k] for k in value} == value  # user keys kept, catalog may add
        elif hasattr(got, "model_dump"):
            assert got.model_dump(exclude_none=True) == value
        else:
            assert got == value, key
