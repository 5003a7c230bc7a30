"""Tuning your own trainer (`kind: tune` with the step's own command): each trial's values
reach the command through ${hyperparameters.NAME}, and Airflow runs the trials natively
(`<step>.trials`, one mapped task per trial, `<step>.best`). The helpers are taken out of
the generated DAG and run, so the test exercises what Airflow would run."""

from __future__ import annotations

import ast
import json
import os
import re
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipespec import ir
from pipespec.backends.airflow.capabilities import CAPABILITIES
from pipespec.ir.features import features_used
from pipespec.spec.references import Placeholder, Text, split_placeholders
from tests.airflow.helpers import example_spec, pipeline_of, render
from tests.conftest import ROOT

_IDENTS = st.from_regex(r"[a-z_][a-z0-9_]{0,12}", fullmatch=True)
_TEXT = st.text(alphabet="abc -=/", max_size=8)


@given(_TEXT, _IDENTS, _TEXT)
def test_a_hyperparameter_placeholder_parses_to_its_root_and_name(
    before: str, name: str, after: str
) -> None:
    segments, issues = split_placeholders(before + "${hyperparameters." + name + "}" + after)
    assert issues == []
    holes = [s for s in segments if isinstance(s, Placeholder)]
    assert [(p.root, p.name, p.offset) for p in holes] == [("hyperparameters", name, len(before))]
    assert "".join(s.text for s in segments if isinstance(s, Text)) == before + after


def test_a_near_miss_of_the_root_is_reported_with_the_right_spelling() -> None:
    _, issues = split_placeholders("--lr=${hyperparameter.lr}")
    assert [i.hint for i in issues] == [
        "did you mean ${hyperparameters.lr}? (write $${ for a literal ${)"
    ]


@pytest.fixture(scope="module")
def pipeline() -> ir.Pipeline:
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        return pipeline_of(example_spec("tuning-own"))
    finally:
        os.chdir(cwd)


def test_the_ir_says_which_values_the_command_takes(pipeline: ir.Pipeline) -> None:
    tune = pipeline.step("tune")
    assert isinstance(tune.details, ir.TuneDetails)
    assert tune.details.trial_values == ("lr", "layers", "optimizer", "dropout")
    assert ir.runs_own_trials(tune)
    used = features_used(pipeline)
    assert used[ir.Feature.TUNE_TRIAL_VALUES] == [tune]
    assert used[ir.Feature.TUNE_BEST_HYPERPARAMETERS] == [pipeline.step("retrain")]
    assert ir.Feature.TUNE_OWN_COMMAND not in used  # no longer emulated
    assert CAPABILITIES[ir.Feature.TUNE_TRIAL_VALUES].support.value == "native"


@pytest.mark.parametrize("version", ["2", "3"])
@pytest.mark.parametrize("operator", ["kubernetes", "local"])
def test_trials_are_mapped_and_the_best_is_read_by_later_steps(
    pipeline: ir.Pipeline, version: str, operator: str
) -> None:
    text = render(pipeline, version, operator)
    assert "task_id='tune.trials'" in text and "task_id='tune.best'" in text
    assert ".expand_kwargs(t1_tune_trials.output.map(_t1_tune_kwargs))" in text
    # Own command: no `--name=value` arguments are added, the values go where written.
    assert "'--lr=', {'key': 'lr'}" in text and "'--lr='," in text
    assert "--lr=\\x00" not in text and "'--layers=" in text
    # Later steps read the best trial's outputs from `tune.best`.
    assert "['hyperparameters']" in text and "task_ids='tune.best')['model']" in text
    assert "t1_tune >> t1_tune_best" in text and "t1_tune_best >> t2_retrain" in text
    if operator == "local":
        # The trial runner collects the command's outputs only: best_hyperparameters is
        # the best-trial pick's.
        trial_task = text.split("t1_tune = PythonOperator.partial(")[1].split("t1_tune_best")[0]
        assert "'outputs': {'metrics':" in text and "best_hyperparameters" not in trial_task


@pytest.fixture(scope="module")
def helpers(pipeline: ir.Pipeline) -> dict[str, Any]:
    text = render(pipeline, "3", "kubernetes")
    tree = ast.parse(text)
    wanted = {"_jinja_text", "_fill_item", "_sample_trials", "_best_trial"}
    nodes: list[ast.stmt] = [
        n
        for n in tree.body
        if (isinstance(n, ast.FunctionDef) and (n.name in wanted or n.name.startswith("_t1_")))
        or (
            isinstance(n, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id.startswith("_T1_") for t in n.targets)
        )
    ]
    namespace: dict[str, Any] = {"json": json, "re": re}
    exec(compile(ast.Module(body=nodes, type_ignores=[]), "<dag helpers>", "exec"), namespace)
    return namespace


class FakeTI:
    def __init__(self, results: list[Any], trials: list[Any]) -> None:
        self.results, self.trials = results, trials

    def xcom_pull(self, task_ids: str, key: str = "return_value", **kwargs: Any) -> Any:
        return self.trials if task_ids.endswith(".trials") else self.results


def test_each_trial_task_gets_its_own_values(helpers: dict[str, Any]) -> None:
    trials = helpers["_t1_tune_trials"]()
    assert len(trials) == 6
    for trial in trials:
        kwargs = helpers["_t1_tune_kwargs"](trial)
        args = kwargs["arguments"]
        assert f"--lr={json.dumps(trial['lr'])}" in args
        assert f"--layers={trial['layers']}" in args and 2 <= trial["layers"] <= 6
        assert f"--optimizer={trial['optimizer']}" in args
        assert kwargs["env_vars"] == {"DROPOUT": json.dumps(trial["dropout"])}
        assert "--metrics=/airflow/xcom/return.json" in args


def test_the_best_trial_is_picked_by_the_objective_key(helpers: dict[str, Any]) -> None:
    trials = helpers["_t1_tune_trials"]()
    results = [{"val_auc": v} for v in (0.7, 0.9, 0.8, 0.1, 0.5, 0.6)]
    best = helpers["_t1_tune_best"](ti=FakeTI(results, trials), run_id="r1")
    assert best["trial"] == 1 and best["hyperparameters"] == trials[1]
    assert best["metrics"] == {"val_auc": 0.9}
    assert best["model"] == "s3://acme-fraud/artifacts/own-tuning/r1/tune/model/1"
