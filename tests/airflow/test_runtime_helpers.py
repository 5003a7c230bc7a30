"""The helper functions a generated DAG file runs inside Airflow, executed for real.

They are taken out of the generated file itself (by name, with `ast`) and run with a fake
task instance, so what is tested is exactly what Airflow would run.
"""

from __future__ import annotations

import ast
import json
import re
from typing import Any

import pytest

from tests.airflow.helpers import example_spec, pipeline_of, render
from tests.conftest import ROOT


@pytest.fixture(scope="module")
def helpers() -> dict[str, Any]:
    import os

    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        text = render(pipeline_of(example_spec("tuning")), "3", "kubernetes")
    finally:
        os.chdir(cwd)
    tree = ast.parse(text)
    wanted = {"_jinja_text", "_fill_item", "_sample_trials", "_best_trial"}
    nodes: list[ast.stmt] = [
        n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name in wanted
    ]
    assert {n.name for n in nodes if isinstance(n, ast.FunctionDef)} == wanted
    namespace: dict[str, Any] = {"json": json, "re": re}
    exec(compile(ast.Module(body=nodes, type_ignores=[]), "<dag helpers>", "exec"), namespace)
    return namespace


SPACE = {
    "learning_rate": {"type": "float", "min": 0.001, "max": 0.3, "scale": "log"},
    "num_leaves": {"type": "int", "min": 8, "max": 256},
    "boosting": {"type": "categorical", "values": ["gbdt", "dart"]},
}


def test_trials_are_in_bounds_and_repeatable(helpers: dict[str, Any]) -> None:
    trials = helpers["_sample_trials"](SPACE, 20, 1234)
    assert trials == helpers["_sample_trials"](SPACE, 20, 1234)
    assert trials != helpers["_sample_trials"](SPACE, 20, 1235)
    assert len(trials) == 20
    for trial in trials:
        assert 0.001 <= trial["learning_rate"] <= 0.3
        assert isinstance(trial["num_leaves"], int) and 8 <= trial["num_leaves"] <= 256
        assert trial["boosting"] in ("gbdt", "dart")


class FakeTI:
    def __init__(self, results: list[Any], trials: list[Any]) -> None:
        self.results, self.trials = results, trials
        self.calls: list[dict[str, Any]] = []

    def xcom_pull(self, task_ids: str, key: str = "return_value", **kwargs: Any) -> Any:
        self.calls.append({"task_ids": task_ids, "key": key, **kwargs})
        return self.trials if task_ids.endswith(".trials") else self.results


@pytest.mark.parametrize(("goal", "expected"), [("minimize", 1), ("maximize", 2)])
def test_best_trial_follows_the_objective(
    helpers: dict[str, Any], goal: str, expected: int
) -> None:
    ti = FakeTI(
        [{"rmse": 3.0}, {"rmse": 1.5}, {"rmse": 9.0}, None],  # trial 3 reported nothing
        [{"x": 0}, {"x": 1}, {"x": 2}, {"x": 3}],
    )
    context = {"ti": ti, "run_id": "manual__1"}
    best = helpers["_best_trial"](
        context, "tune", "return_value", "rmse", goal, 4, "s3://b/p", ["model"]
    )
    assert best == {
        "trial": expected,
        "hyperparameters": {"x": expected},
        "metrics": ti.results[expected],
        "model": f"s3://b/p/manual__1/tune/model/{expected}",
    }
    assert ti.calls[0] == {"task_ids": "tune", "key": "return_value", "map_indexes": [0, 1, 2, 3]}


def test_best_trial_fails_loudly_when_no_trial_reported(helpers: dict[str, Any]) -> None:
    ti = FakeTI([None, {"other": 1}], [{}, {}])
    with pytest.raises(ValueError, match="no trial of 'tune' reported the metric 'rmse'"):
        helpers["_best_trial"](
            {"ti": ti, "run_id": "r"}, "tune", "k", "rmse", "minimize", 2, "/a", []
        )


def test_fill_item_escapes_run_time_values_for_jinja(helpers: dict[str, Any]) -> None:
    import jinja2
    from jinja2.sandbox import SandboxedEnvironment

    env = SandboxedEnvironment(undefined=jinja2.StrictUndefined)
    template = {
        "arguments": [
            "--a",
            {"__pipespec_parts__": ["--x=", {"key": "x"}]},
            {"__pipespec_parts__": [None]},
        ]
    }
    item = {"x": "{{ evil }}\r\n{% if %}"}
    out = helpers["_fill_item"](template, item)
    rendered = [env.from_string(arg).render() for arg in out["arguments"]]
    assert rendered == ["--a", "--x=" + item["x"], json.dumps(item)]
