"""The Airflow conformance checker: a DAG file loads in Airflow's own DagBag (2.10 or 3.3)
as the spec says.

No import errors, the right dag_id, every spec step a task, reachability between the
spec's steps exactly the spec's (helper tasks such as `deploy.when` may sit between
steps), mapped tasks exactly the `foreach` steps, params with their defaults and schemas,
a DAG that survives the DAG processor's serialization, and every templated field rendered
by Airflow with no Jinja left.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import networkx as nx

from pipespec import ir
from pipespec.backends.airflow.monitor_dag import monitor_pipeline
from pipespec.backends.airflow.render import is_mapped
from pipespec.ir.monitors import scheduled_monitors
from tests.airflow.variants import own_variant
from tests.conformance.checkers import Case, checker
from tests.conformance.runner import probe_dags


def probe_text(tmp_path: Path, version: str, name: str, text: str) -> dict[str, Any]:
    folder = tmp_path / f"dags-{version}-{len(list(tmp_path.iterdir()))}"
    folder.mkdir()
    (folder / f"{name}.py").write_text(text)
    return probe_dags(version, folder, render=True)


def spec_reachability(pipeline: ir.Pipeline) -> set[tuple[str, str]]:
    graph: nx.DiGraph[str] = nx.DiGraph()
    graph.add_nodes_from(s.id for s in pipeline.steps)
    graph.add_edges_from((dep.source, dep.target) for dep in pipeline.edges)
    return {(u, v) for u in graph for v in nx.descendants(graph, u)}


def assert_dag_matches(report: dict[str, Any], pipeline: ir.Pipeline, operator: str) -> None:
    assert report["import_errors"] == {}, report["import_errors"]
    dag = report["dags"][pipeline.name]
    steps = {s.id for s in pipeline.steps}
    tasks = set(dag["tasks"])
    assert steps <= tasks, f"missing tasks: {steps - tasks}"
    helpers = tasks - steps
    assert all("." in t for t in helpers), f"unexpected tasks: {helpers}"
    graph: nx.DiGraph[str] = nx.DiGraph()
    graph.add_nodes_from(tasks)
    graph.add_edges_from(tuple(e) for e in dag["edges"])
    reach = {(u, v) for u in steps for v in nx.descendants(graph, u) if v in steps}
    assert reach == spec_reachability(pipeline)
    assert set(dag["mapped_tasks"]) == {s.id for s in pipeline.steps if is_mapped(s)}
    want = "KubernetesPodOperator" if operator == "kubernetes" else "PythonOperator"
    runs = {s.id for s in pipeline.steps if s.kind != "fail"}  # a fail step runs nothing
    assert {dag["operators"][s] for s in runs} <= {want}
    for step in pipeline.steps:
        assert dag["trigger_rules"][step.id] == step.trigger, step.id
        if step.kind == "fail":
            assert dag["operators"][step.id] == "PythonOperator"
    assert dag["params"] == {p.name: ir.thaw(p.default) for p in pipeline.params}
    for p in pipeline.params:
        # Airflow checks a trigger-time value against the Param's JSON Schema.
        schema = dag["param_schemas"][p.name]
        if p.enum is not None:
            assert schema["enum"] == [ir.thaw(v) for v in p.enum]
        if p.pattern is not None:
            assert schema["pattern"] == p.pattern
    assert dag["serialized"] is True, dag["serialize_error"]
    assert dag["catchup"] is False


def check_dag_file(
    tmp_path: Path, pipeline: ir.Pipeline, version: str, operator: str, text: str
) -> None:
    """The DAG file ``text`` loads in Airflow ``version`` as ``pipeline`` says."""
    report = probe_text(tmp_path, version, pipeline.name, text)
    assert report["airflow_version"].startswith(f"{version}.")
    assert_dag_matches(report, pipeline, operator)
    # Every templated field renders (mapped ones per item) and leaves no Jinja behind.
    rendered = report["dags"][pipeline.name]["rendered"]
    for value in _strings(rendered):
        assert "{{" not in value and "{%" not in value, value
    assert "<error>" not in repr(rendered)


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() if k != "doc_md" for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def check_dag_files(
    tmp_path: Path, pipeline: ir.Pipeline, version: str, operator: str, files: dict[str, str]
) -> dict[str, Any]:
    """The pipeline's DAG file and its scheduled monitors' DAG files (one folder, as
    Airflow would load them) each load as their pipeline says. Returns the probe report."""
    folder = tmp_path / f"dags-{version}-{len(list(tmp_path.iterdir()))}"
    folder.mkdir()
    for path, text in files.items():
        (folder / Path(path).name).write_text(text)
    report = probe_dags(version, folder, render=True)
    assert report["airflow_version"].startswith(f"{version}.")
    pipelines = [pipeline] + [monitor_pipeline(pipeline, m) for m in scheduled_monitors(pipeline)]
    assert set(report["dags"]) == {p.name for p in pipelines}
    for each in pipelines:
        assert_dag_matches(report, each, operator)
        assert report["dags"][each.name]["schedule"] == each.schedule, each.name
        for value in _strings(report["dags"][each.name]["rendered"]):
            assert "{{" not in value and "{%" not in value, value
        assert "<error>" not in repr(report["dags"][each.name]["rendered"])
    return report


@checker("airflow")
def check_airflow(case: Case) -> None:
    """The pipeline's DAG (and its scheduled monitors' DAGs), checked in the Airflow version
    the spec asks for."""
    version, operator = own_variant(case.pipeline)
    check_dag_files(case.tmp_path, case.pipeline, version, operator, dict(case.files))
