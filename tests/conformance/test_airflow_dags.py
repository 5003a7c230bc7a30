"""Generated DAG files load in Airflow's own DagBag (2.10 and 3.3) as the spec says.

The check itself is tests/conformance/airflow_checks.py (the Airflow conformance checker,
run on every example's own output by tests/conformance/test_targets.py). Here: the other
Airflow versions and operators of each example, scripts and trials as Airflow renders
them, the hostile spec's strings reaching the rendered task fields verbatim through
Airflow's own Jinja, and a deliberately broken file failing the same check.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from pipespec import ir
from pipespec.api import analyze_file
from tests.airflow.helpers import example_spec, pipeline_of, render
from tests.airflow.test_safety import HOSTILE, spec_text
from tests.airflow.variants import OTHER_VARIANTS
from tests.conformance.airflow_checks import assert_dag_matches, check_dag_file, probe_text
from tests.conftest import ROOT

pytestmark = [pytest.mark.conformance, pytest.mark.usefixtures("airflow_venvs")]


@pytest.fixture(autouse=True)
def _at_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)


@pytest.mark.parametrize(("example", "version", "operator"), OTHER_VARIANTS)
def test_example_loads_in_dagbag(tmp_path: Path, example: str, version: str, operator: str) -> None:
    """The variants an example is not compiled with (its own is in test_targets.py)."""
    pipeline = pipeline_of(example_spec(example))
    check_dag_file(tmp_path, pipeline, version, operator, render(pipeline, version, operator))


@pytest.mark.parametrize("version", ["2", "3"])
def test_scripts_travel_inline_and_arrive_verbatim(tmp_path: Path, version: str) -> None:
    """churn's filled steps run pipespec's scripts: Airflow must hand them over unchanged."""
    pipeline = pipeline_of(example_spec("churn"))
    report = probe_text(tmp_path, version, pipeline.name, render(pipeline, version, "kubernetes"))
    assert_dag_matches(report, pipeline, "kubernetes")
    rendered = report["dags"][pipeline.name]["rendered"]
    for step in pipeline.steps:
        if step.script is None:
            continue
        fields = rendered[step.id]
        assert fields["cmds"] == ["python"]
        assert fields["arguments"][0] == "-c"
        assert fields["arguments"][1] == step.script.source, step.id


@pytest.mark.parametrize("version", ["2", "3"])
def test_tuning_fans_out_one_task_per_trial(tmp_path: Path, version: str) -> None:
    pipeline = pipeline_of(example_spec("tuning"))
    report = probe_text(tmp_path, version, pipeline.name, render(pipeline, version, "kubernetes"))
    assert_dag_matches(report, pipeline, "kubernetes")
    dag = report["dags"][pipeline.name]
    assert {"tune.trials", "tune.best"} <= set(dag["tasks"])
    assert ["tune", "tune.best"] in dag["edges"]
    space = ir.thaw(pipeline.step("tune").details["search_space"])
    trials = _rendered_kpo_args(dag, "tune")
    assert len(trials) == pipeline.step("tune").details["max_trials"]
    for args in trials:
        given = dict(a[2:].split("=", 1) for a in args if a.startswith("--") and "=" in a)
        assert set(space) <= set(given)
        for name, dim in space.items():
            if dim["type"] != "categorical":
                assert dim["min"] <= float(given[name]) <= dim["max"], (name, given[name])
    # Every trial writes its own model; the evaluation reads the best one's.
    assert len({args[args.index("--model") + 1] for args in trials}) == len(trials)
    evaluate = dag["rendered"]["evaluate"]["arguments"]
    assert evaluate[evaluate.index("--model") + 1] == "<xcom tune.best:return_value>[model]"


@pytest.mark.parametrize("version", ["2", "3"])
@pytest.mark.parametrize("operator", ["kubernetes", "local"])
def test_tuning_your_own_trainer_fans_out_with_each_trials_values(
    tmp_path: Path, version: str, operator: str
) -> None:
    """${hyperparameters.NAME} in the user's own command: one mapped task per trial, each
    with its own values in the arguments and env, and the best picked for later steps."""
    pipeline = pipeline_of(example_spec("tuning-own"))
    report = probe_text(tmp_path, version, pipeline.name, render(pipeline, version, operator))
    assert_dag_matches(report, pipeline, operator)
    dag = report["dags"][pipeline.name]
    assert {"tune.trials", "tune.best", "retrain.when"} <= set(dag["tasks"])
    assert ["tune", "tune.best"] in dag["edges"] and "tune" in dag["mapped_tasks"]
    if operator != "kubernetes":
        return  # the local operator's argv is filled at run time (tests/airflow)
    space = ir.thaw(pipeline.step("tune").details["search_space"])
    trials = _rendered_kpo_args(dag, "tune")
    assert len(trials) == pipeline.step("tune").details["max_trials"]
    for args in trials:
        given = dict(a[2:].split("=", 1) for a in args if a.startswith("--") and "=" in a)
        for name in ("lr", "layers"):
            assert space[name]["min"] <= float(given[name]) <= space[name]["max"]
        assert given["optimizer"] in space["optimizer"]["values"]
        assert "${hyperparameters" not in " ".join(args)
    assert len({a for args in trials for a in args if a.startswith("--model=")}) == len(trials)


def _hostile_pipeline(tmp_path: Path) -> ir.Pipeline:
    spec = tmp_path / "hostile.yaml"
    spec.write_text(spec_text(HOSTILE))
    analysis = analyze_file(spec)
    assert analysis.pipeline is not None, analysis.diagnostics
    return analysis.pipeline


def _rendered_kpo_args(dag: dict[str, Any], task: str) -> list[Any]:
    rendered = dag["rendered"][task]
    entries = rendered if isinstance(rendered, list) else [rendered]
    return [entry["arguments"] for entry in entries]


def _env_dict(env: Any) -> dict[str, Any]:
    # Provider 10.10 (Airflow 2) turns env_vars into V1EnvVar objects; 10.25 keeps a dict.
    if isinstance(env, dict):
        return env
    return {item["name"]: item["value"] for item in env}


@pytest.mark.parametrize("version", ["2", "3"])
def test_hostile_strings_reach_tasks_verbatim(tmp_path: Path, version: str) -> None:
    pipeline = _hostile_pipeline(tmp_path)
    report = probe_text(tmp_path, version, "hostile", render(pipeline, version, "kubernetes"))
    assert_dag_matches(report, pipeline, "kubernetes")
    dag = report["dags"]["hostile"]
    (one_args,) = _rendered_kpo_args(dag, "one")
    # command: [s10, s11, s0, ${outputs.out}, ${params.text}] -> cmds=[s10], arguments=rest
    assert dag["rendered"]["one"]["cmds"] == [HOSTILE[10]]
    assert one_args[0] == HOSTILE[11]
    assert one_args[1] == HOSTILE[0]
    assert one_args[3] == HOSTILE[1]  # the param default, rendered by Airflow
    env = _env_dict(dag["rendered"]["one"]["env_vars"])
    assert env["A"] == HOSTILE[5] and env["B"] == HOSTILE[1] and env["C"] == HOSTILE[2]
    # The literal foreach: one rendered entry per item, the item verbatim.
    two = _rendered_kpo_args(dag, "two")
    assert [args[0] for args in two] == [HOSTILE[3], HOSTILE[4], HOSTILE[5]]
    assert all(args[2] == HOSTILE[7].replace("$${", "${") for args in two)  # $${ is a literal ${
    # The run-time foreach over a list param: the items come from the param's default.
    three = _rendered_kpo_args(dag, "three")
    assert [args[0] for args in three] == [f"pre-{HOSTILE[3]}-post", f"pre-{HOSTILE[4]}-post"]
    assert all(args[1] == HOSTILE[10] for args in three)


@pytest.mark.parametrize("version", ["2", "3"])
@pytest.mark.parametrize("operator", ["kubernetes", "local"])
def test_no_spec_text_is_evaluated_as_a_template(
    tmp_path: Path, version: str, operator: str
) -> None:
    """Every templated field of every task, rendered by Airflow itself: a spec string that
    holds a Jinja expression (connection ids, namespaces, secrets, commands...) arrives as
    text, never evaluated."""
    pipeline = _hostile_pipeline(tmp_path)
    report = probe_text(tmp_path, version, "hostile", render(pipeline, version, operator))
    assert_dag_matches(report, pipeline, operator)
    rendered = report["dags"]["hostile"]["rendered"]
    assert "<error>" not in json.dumps(rendered)
    assert "EVALUATED" not in json.dumps(rendered)
    assert "EVAL' ~ 'UATED" in json.dumps(rendered)
    if operator == "kubernetes":
        assert rendered["one"]["kubernetes_conn_id"] == HOSTILE[6]
    else:
        assert rendered["one"]["op_kwargs"]["connections"] == {"DSN": HOSTILE[6]}


@pytest.mark.parametrize("version", ["2", "3"])
def test_a_broken_file_fails_the_same_check(tmp_path: Path, version: str) -> None:
    pipeline = pipeline_of(example_spec("showcase"))
    good = render(pipeline, version, "kubernetes")
    missing_edge = good.replace("    t2_split >> t3_tune\n", "")
    assert missing_edge != good
    report = probe_text(tmp_path, version, pipeline.name, missing_edge)
    with pytest.raises(AssertionError):
        assert_dag_matches(report, pipeline, "kubernetes")
    import_error = good.replace("KubernetesPodOperator\n", "KubernetesPodOperatr\n", 1)
    report = probe_text(tmp_path, version, pipeline.name, import_error)
    assert report["import_errors"]
    with pytest.raises(AssertionError):
        assert_dag_matches(report, pipeline, "kubernetes")


@pytest.mark.parametrize("version", ["2", "3"])
@pytest.mark.parametrize("operator", ["kubernetes", "local"])
def test_branches_join_and_fail_load_with_their_operators_and_trigger_rules(
    tmp_path: Path, version: str, operator: str
) -> None:
    pipeline = pipeline_of(example_spec("branching"))
    report = probe_text(tmp_path, version, pipeline.name, render(pipeline, version, operator))
    assert_dag_matches(report, pipeline, operator)
    dag = report["dags"][pipeline.name]
    assert dag["operators"]["promote.branch"] == "BranchPythonOperator"
    assert dag["operators"]["stop.when"] == "ShortCircuitOperator"
    assert dag["operators"]["stop"] == "PythonOperator"
    for edge in (
        ["evaluate", "promote.branch"],
        ["promote.branch", "promote"],
        ["promote.branch", "retrain"],
        ["promote", "publish"],
        ["retrain", "publish"],
        ["stop.when", "stop"],
    ):
        assert edge in dag["edges"], edge
    assert dag["trigger_rules"]["publish"] == "none_failed"
    assert dag["trigger_rules"]["retrain"] == "all_success"
