"""A step that runs the user's own image and command is complete as written: the kind's
native fields are needed only where pipespec writes the code (a catalog script), and fill
never gives such a step catalog hyperparameters or search spaces."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from pipespec.api import analyze_file, build
from pipespec.compiler.complete import check_complete
from pipespec.diagnostics import Severity, render_human
from pipespec.fill.engine import run_fill
from pipespec.spec.loader import load_spec_text
from pipespec.spec.validate import validate_spec

NATIVE: dict[str, dict[str, Any]] = {
    "train": {"framework": "xgboost", "task": "regression", "hyperparameters": {"eta": 0.3}},
    "evaluate": {"task": "regression", "metrics": ["rmse"]},
    "deploy": {
        "endpoint": {"name": "e", "instance_type": "small", "min_replicas": 1, "max_replicas": 1}
    },
    "monitor": {"drift": {"metric": "psi", "threshold": 0.2}},
}


def _write(tmp: Path, doc: dict[str, Any]) -> Path:
    path = tmp / "own.yaml"
    with path.open("w", encoding="utf-8") as handle:
        YAML().dump(doc, handle)
    return path


def _doc(step: dict[str, Any], *, default_image: bool) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "pipespec": 1,
        "name": "own",
        "steps": {
            "data": {
                "kind": "container",
                "image": "x:1",
                "command": ["x", "${outputs.data}", "${outputs.model}"],
                "outputs": {"data": "dataset", "model": "model"},
            },
            "step": step,
        },
    }
    if default_image:
        doc["defaults"] = {"image": "registry.example/team:1"}
    return doc


@st.composite
def own_steps(draw: st.DrawFn) -> dict[str, Any]:
    kind = draw(st.sampled_from(sorted(NATIVE)))
    step: dict[str, Any] = {
        "kind": kind,
        "command": ["python", "own.py", "${inputs.data}", "${inputs.model}"],
        "inputs": {"data": "data.data", "model": "data.model"},
    }
    # Any subset of the kind's native fields: none of them is needed.
    for name, value in NATIVE[kind].items():
        if draw(st.booleans()):
            step[name] = value
    return step


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(own_steps(), st.booleans())
def test_an_own_command_step_is_complete_without_its_native_fields(
    tmp_path: Path, step: dict[str, Any], default_image: bool
) -> None:
    if not default_image:
        step = {**step, "image": "registry.example/own:2"}
    path = _write(tmp_path, _doc(step, default_image=default_image))
    analysis = analyze_file(path, fill=True)
    shown = render_human(analysis.diagnostics, {})
    assert analysis.pipeline is not None, shown
    assert check_complete(analysis.pipeline) == [], shown
    (own,) = [s for s in analysis.pipeline.steps if s.id == "step"]
    assert own.image == step.get("image", "registry.example/team:1")


def test_fill_gives_an_own_command_trainer_no_catalog_hyperparameters(tmp_path: Path) -> None:
    step = {
        "kind": "train",
        "framework": "xgboost",
        "task": "binary_classification",
        "command": ["python", "own_train.py", "${inputs.data}", "${outputs.model}"],
        "inputs": {"data": "data.data"},
    }
    for default_image in (False, True):
        path = _write(tmp_path, _doc(dict(step), default_image=default_image))
        analysis = analyze_file(path, fill=True)
        assert analysis.pipeline is not None, render_human(analysis.diagnostics, {})
        (own,) = [s for s in analysis.pipeline.steps if s.id == "step"]
        assert own.details.get("hyperparameters") is None
        assert not any(k.startswith("hyperparameters") for k in own.provenance)
        loaded, _ = load_spec_text(path.read_text(encoding="utf-8"), str(path))
        assert loaded is not None
        vspec, _ = validate_spec(loaded)
        filled = run_fill(vspec, None)
        assert filled.lock is not None
        entry = filled.lock.steps.get("step")
        assert entry is None or "hyperparameters" not in entry.fields, entry
        assert entry is None or "search_space" not in entry.fields, entry


def test_fill_gives_an_own_command_tuner_no_catalog_search_space(tmp_path: Path) -> None:
    step = {
        "kind": "tune",
        "framework": "xgboost",
        "task": "regression",
        "objective": {"metric": "rmse", "goal": "minimize"},
        "max_trials": 4,
        "parallel_trials": 2,
        "command": ["python", "own_tune.py", "${inputs.data}", "${outputs.model}"],
        "inputs": {"data": "data.data"},
    }
    path = _write(tmp_path, _doc(step, default_image=True))
    analysis = analyze_file(path, fill=True)
    if analysis.pipeline is not None:
        (own,) = [s for s in analysis.pipeline.steps if s.id == "step"]
        assert own.details.get("search_space") is None
        assert own.details.get("hyperparameters") is None


@pytest.mark.parametrize("kind", ["train", "evaluate"])
def test_a_catalog_script_step_still_needs_what_the_script_takes(tmp_path: Path, kind: str) -> None:
    """`script: pipespec:train` without framework/task is incomplete (PS500, as before),
    and now also a call without the script's required arguments (PS435)."""
    step: dict[str, Any] = {"kind": kind, "image": "x:1", "script": f"pipespec:{kind}"}
    if kind == "train":
        step["args"] = ["--train", "${inputs.data}", "--model", "${outputs.model}"]
        step["inputs"] = {"data": "data.data"}
    else:
        step["args"] = ["--model", "${inputs.model}", "--test", "${inputs.data}"]
        step["inputs"] = {"data": "data.data", "model": "data.model"}
    path = _write(tmp_path, _doc(step, default_image=False))
    result = build([path], ["airflow"], tmp_path / "out")
    codes = {d.code for d in result.diagnostics if d.severity is Severity.ERROR}
    assert codes & {"PS435", "PS500"}, render_human(result.diagnostics, {})
